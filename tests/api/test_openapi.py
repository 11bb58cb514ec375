"""The OpenAPI document ninja writes matches what the API does: every documented operation is
called, and every answer's status is documented and its body fits the documented schema.
(tests/api/test_schemathesis.py then throws generated requests at every operation.)"""

import re

import jsonschema_rs
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from editor.models import Edit
from exports.models import GalleryExport
from gateway.failures import CODES, LINK_REFUSALS
from tests.support.factories import upload

SPEC_URL = "/api/v1/openapi.json"
JSON = {"content_type": "application/json"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def problems(spec: dict, schema: dict, value) -> list[str]:
    """What is wrong with `value` under `schema`, whose $refs point into the document."""
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": spec["components"]}, validate_formats=True
    )
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(value)]


@pytest.fixture
def spec(client, db):
    response = client.get(SPEC_URL)  # no session, no token
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def call(client, spec, owner_token):
    checked = set()

    def call(method: str, path: str, expect: int, token: str | None = owner_token, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = getattr(client, method)(f"/api/v1{path}", **kwargs, **headers)
        assert response.status_code == expect, response.content
        template = "/api/v1" + UUID.sub("{edit_id}", path.split("?")[0])
        template = template.replace("/exports/{edit_id}", "/exports/{export_id}")
        template = template.replace("/imports/{edit_id}", "/imports/{import_id}")
        template = template.replace("/batches/{edit_id}", "/batches/{group_id}")
        template = template.replace("/comparisons/{edit_id}", "/comparisons/{group_id}")
        template = re.sub(r"/webhooks/[0-9]+$", "/webhooks/{webhook_id}", template)
        operation = spec["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented, f"{method.upper()} {template} answered {response.status_code}"
        content = documented.get("content", {}).get("application/json")
        if content:
            assert response["Content-Type"].startswith("application/json")
            assert problems(spec, content["schema"], response.json()) == []
        else:
            assert not response.content
        checked.add((template, method))
        return response

    call.checked = checked
    return call


def test_the_document_is_served_without_login_and_is_well_formed(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "Gaitu API"
    assert spec["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }
    operation_ids = []
    # An edit's choices are written out where they are used, never as a component that
    # another app's choices of the same class name ("Status": a delivery's) would replace.
    schemas = spec["components"]["schemas"]
    for schema, field in [("EditOut", "status"), ("Accepted", "status"), ("GroupEdit", "status")]:
        assert schemas[schema]["properties"][field]["enum"] == list(Edit.Status.values)
    assert schemas["GroupOut"]["properties"]["kind"]["enum"] == ["batch", "comparison"]
    for path, operations in spec["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            assert operation["security"] == [{"TokenAuth": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                if status.startswith("4"):  # every error, in the one error shape
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    assert len(operation_ids) == len(set(operation_ids)) == 28
    assert not any(op_id.startswith("api_") for op_id in operation_ids)  # chosen, not derived


def test_the_upload_form_is_described_as_the_form_reads_it(spec, settings):
    body = spec["paths"]["/api/v1/edits"]["post"]["requestBody"]
    assert body["required"] is True
    form = body["content"]["multipart/form-data"]
    assert form["encoding"]["image"]["contentType"].startswith("image/jpeg")
    schema = spec["components"]["schemas"]["NewEdit"]
    assert schema["required"] == ["instruction"]  # no picture: one made from the words
    image = schema["properties"]["image"]
    assert image["items"] == {"type": "string", "format": "binary"}
    assert "minItems" not in image and image["maxItems"] == settings.GAITU_MAX_INPUTS
    link = jsonschema_rs.validator_for(schema["properties"]["image_url"], validate_formats=True)
    assert [link.is_valid(url) for url in ("https://example.com/a.jpg", "", "not a link")] == [
        True, True, False,
    ]  # fmt: skip
    assert schema["properties"]["model"]["enum"] == [*settings.GAITU_MODELS, ""]
    instruction = schema["properties"]["instruction"]
    assert instruction["maxLength"] == 4000
    blank = jsonschema_rs.validator_for(instruction)
    assert [blank.is_valid(text) for text in ("blur", " sepia ", "", " \t\u3000", "a\x00")] == [
        True, True, False, False, False,
    ]  # fmt: skip


@pytest.mark.parametrize("form", ["NewEdit", "NewBatch", "NewComparison"])
def test_the_options_are_described_as_the_form_takes_them(spec, form):
    properties = spec["components"]["schemas"][form]["properties"]
    assert (properties["n"]["minimum"], properties["n"]["maximum"]) == (1, 4)
    assert properties["quality"]["enum"] == ["low", "medium", "high", ""]
    size = jsonschema_rs.validator_for(properties["size"])
    taken = ["", "1:1", "16:9", "9:16", "1024x768", "256x4096", "4096x256"]
    refused = ["5:4", "255x300", "4097x1024", "1024x", "x768", "big", "1024 x 768", "01024x768"]
    assert [size.is_valid(value) for value in taken] == [True] * len(taken)
    assert [size.is_valid(value) for value in refused] == [False] * len(refused)


def test_batches_and_comparisons_are_described(spec, settings):
    batch = spec["components"]["schemas"]["NewBatch"]
    assert batch["required"] == ["image", "instruction"]
    image = batch["properties"]["image"]
    assert (image["minItems"], image["maxItems"]) == (1, settings.GAITU_BATCH_MAX)
    comparison = spec["components"]["schemas"]["NewComparison"]
    assert comparison["required"] == ["instruction", "models"]
    models = comparison["properties"]["models"]
    assert (models["minItems"], models["maxItems"], models["uniqueItems"]) == (2, 3, True)
    assert models["items"]["enum"] == settings.GAITU_MODELS
    for path in ("/api/v1/batches", "/api/v1/comparisons"):
        create = spec["paths"][path]["post"]
        body = create["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        assert body.endswith(("/NewBatch", "/NewComparison"))
        accepted = create["responses"]["202"]
        assert accepted["content"]["application/json"]["schema"]["$ref"].endswith("/GroupOut")
        assert set(create["responses"]) == {"202", "400", "401", "413", "429", "507"}
    group = spec["components"]["schemas"]["GroupOut"]
    assert {"id", "kind", "status", "counts", "edits", "winner", "url"} <= set(group["required"])
    winner = spec["paths"]["/api/v1/comparisons/{group_id}/winner"]["post"]
    assert winner["operationId"] == "choose_winner"
    assert "application/json" in winner["requestBody"]["content"]
    choose = spec["paths"]["/api/v1/edits/{edit_id}/choose"]["post"]
    assert choose["operationId"] == "choose_result"
    edit = spec["components"]["schemas"]["EditOut"]
    assert {"kind", "options", "chosen", "group"} <= set(edit["required"])
    assert edit["properties"]["kind"]["enum"] == ["edit", "generation"]
    result = spec["components"]["schemas"]["Result"]
    assert {"position", "chosen"} <= set(result["required"])


def test_the_failure_codes_and_reasons_are_documented(spec):
    """Every code an edit can fail with, and every rule a result link can be refused by."""
    failure = spec["components"]["schemas"]["Failure"]
    assert failure["required"] == ["code", "reason", "message", "detail"]
    for code in CODES:
        assert f"`{code}`" in failure["properties"]["code"]["description"]
    for rule in LINK_REFUSALS:
        assert f"`{rule}`" in failure["properties"]["reason"]["description"]
    create = spec["paths"]["/api/v1/edits"]["post"]["description"]
    assert "`file_too_large`" in create and "`request_too_large`" in create


def test_every_documented_operation_behaves_as_described(call, spec, run_jobs, settings):
    call("get", "/models", 200)
    call("get", "/edits", 401, token=None)
    with run_jobs():
        created = call("post", "/edits", 202, data={"instruction": "blur", "image": upload()})
    edit_id = created.json()["id"]
    call("post", "/edits", 400, data={"instruction": "", "image": upload()})
    call("get", "/edits", 200)
    call("get", "/edits?status=succeeded", 200)
    call("get", "/edits?status=nonsense", 400)
    call("get", "/edits?page=abc", 400)
    call("get", "/edits?page=99", 404)
    call("get", f"/edits/{edit_id}", 200)
    call("get", "/edits/00000000-0000-0000-0000-000000000000", 404)
    call("post", f"/edits/{edit_id}/cancel", 409)
    call("post", f"/edits/{edit_id}/retry", 409)
    shared = call("post", f"/edits/{edit_id}/share", 201, data={"show_original": "false"})
    assert shared.json()["show_original"] is False
    call("post", f"/edits/{edit_id}/share", 200, data={"show_original": "true"})
    assert call("get", f"/edits/{edit_id}", 200).json()["share"]["show_original"] is True
    call("delete", f"/edits/{edit_id}/share", 204)

    waiting = Edit.objects.create(owner=Edit.objects.get().owner, instruction="later")
    call("post", f"/edits/{waiting.pk}/share", 409)
    call("post", f"/edits/{waiting.pk}/cancel", 200)
    with run_jobs():
        call("post", f"/edits/{waiting.pk}/retry", 202)
    call("delete", f"/edits/{edit_id}", 204)
    call("get", f"/edits/{edit_id}", 404)
    call("delete", f"/edits/{edit_id}/share", 404)

    settings.GAITU_RATE_LIMIT = 1
    limited = call("post", "/edits", 429, data={"instruction": "blur", "image": upload()})
    assert int(limited["Retry-After"]) == limited.json()["error"]["retry_after"] >= 1
    settings.GAITU_RATE_LIMIT = 0
    assert call("get", "/account", 200).json()["storage_quota_bytes"] is None
    settings.GAITU_STORAGE_QUOTA_MB = 1
    waiting.sources.create(size=2**20, content_type="image/jpeg")
    full = call("post", "/edits", 507, data={"instruction": "blur", "image": upload()})
    assert full.json()["error"]["code"] == "quota_exceeded"
    assert call("get", "/account", 200).json()["storage_quota_bytes"] == 2**20
    for name in ("/batches", "/comparisons"):  # the same limits (test_groups.py for more)
        assert call("post", name, 507, data={"instruction": "blur", "image": upload()})
    settings.GAITU_STORAGE_QUOTA_MB = 0
    settings.GAITU_UPLOAD_MAX_MB = 1
    settings.GAITU_BATCH_MAX = 4  # a body can then need at most 4 pictures of 1 MB
    whole = call(
        "post", "/edits", 413, data={"instruction": "x", "image": upload(data=b"\xff" * 6 * 2**20)}
    )
    assert whole.json()["error"]["code"] == "request_too_large"
    one = call(
        "post", "/edits", 413, data={"instruction": "x", "image": upload(data=b"\xff" * 2 * 2**20)}
    )
    assert one.json()["error"]["code"] == "file_too_large"

    # Several results, batches and comparisons (test_modes.py and test_groups.py for more).
    with run_jobs():
        several = call("post", "/edits", 202, data={"instruction": "a cat", "n": "2"}).json()
    assert call("get", f"/edits/{several['id']}", 200).json()["kind"] == "generation"
    call("post", f"/edits/{several['id']}/choose", 200, data={"position": 1}, **JSON)
    call("post", f"/edits/{several['id']}/choose", 409, data={"position": 5}, **JSON)
    call("post", f"/edits/{several['id']}/choose", 400, data={"position": -1}, **JSON)
    with run_jobs():
        batch = call(
            "post", "/batches", 202, data={"instruction": "x", "image": [upload(), upload()]}
        )
    batch_id = batch.json()["id"]
    call("post", "/batches", 400, data={"instruction": "x"})
    call("get", f"/batches/{batch_id}", 200)
    call("post", f"/batches/{batch_id}/retry", 409)
    call("get", f"/comparisons/{batch_id}", 404)
    call("delete", f"/batches/{batch_id}", 204)
    call("post", f"/batches/{batch_id}/retry", 404)
    call("delete", f"/batches/{batch_id}", 404)
    models = settings.GAITU_MODELS[:2]
    with run_jobs():
        compared = call("post", "/comparisons", 202, data={"instruction": "x", "models": models})
    comparison = compared.json()
    call("post", "/comparisons", 400, data={"instruction": "x", "models": models[:1]})
    call("get", f"/comparisons/{comparison['id']}", 200)
    call("get", f"/batches/{comparison['id']}", 404)
    call("post", f"/comparisons/{comparison['id']}/retry", 409)
    winner = {"edit_id": comparison["edits"][0]["id"]}
    call("post", f"/comparisons/{comparison['id']}/winner", 200, data=winner, **JSON)
    elsewhere = {"edit_id": "00000000-0000-0000-0000-000000000000"}
    call("post", f"/comparisons/{comparison['id']}/winner", 409, data=elsewhere, **JSON)
    call("post", f"/comparisons/{comparison['id']}/winner", 400, data={"edit_id": 3}, **JSON)
    call("delete", f"/comparisons/{comparison['id']}", 204)
    call("post", f"/comparisons/{comparison['id']}/winner", 404, data=winner, **JSON)

    # The gallery as a ZIP (the download itself, and imports that work: test_exports_api.py).
    with run_jobs():
        export = call("post", "/exports", 202).json()
    assert call("get", f"/exports/{export['id']}", 200).json()["status"] == "done"
    running = GalleryExport.objects.create(owner=waiting.owner, status="running")
    call("get", f"/exports/{running.pk}/download", 409)
    with run_jobs():
        job = call("post", "/imports", 202, data={"archive": upload("x.zip", b"no")}).json()
    assert call("get", f"/imports/{job['id']}", 200).json()["error"]["code"] == "not_a_zip"

    # Webhooks, last: no edit ends after this one is made (tests/webhooks/ for deliveries).
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    hook = {"url": "http://127.0.0.1:9/hook"}
    made = call("post", "/webhooks", 201, data=hook, **JSON).json()
    call("post", "/webhooks", 400, data={"url": "ftp://127.0.0.1/"}, **JSON)
    assert [webhook["id"] for webhook in call("get", "/webhooks", 200).json()] == [made["id"]]
    call("delete", f"/webhooks/{made['id']}", 204)
    call("delete", f"/webhooks/{made['id']}", 404)

    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == call.checked


def test_delete_removes_the_files(client, owner_token, run_jobs):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    with run_jobs():
        body = client.post(reverse("api_edits"), {"instruction": "x", "image": upload()}, **headers)
    edit = Edit.objects.get(pk=body.json()["id"])
    pictures = [*edit.sources.all(), *edit.results.all()]
    names = [stored.name for p in pictures for stored in (p.file, p.thumbnail) if stored]
    # In the data folder or the bucket, whichever the profile keeps them in.
    assert len(names) == 4 and all(default_storage.exists(name) for name in names)
    with run_jobs():
        client.delete(body.json()["url"], **headers)
    assert not any(default_storage.exists(name) for name in names)
