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
    assert len(operation_ids) == len(set(operation_ids)) == 15
    assert not any(op_id.startswith("api_") for op_id in operation_ids)  # chosen, not derived


def test_the_upload_form_is_described_as_the_form_reads_it(spec, settings):
    body = spec["paths"]["/api/v1/edits"]["post"]["requestBody"]
    assert body["required"] is True
    form = body["content"]["multipart/form-data"]
    assert form["encoding"]["image"]["contentType"].startswith("image/jpeg")
    schema = spec["components"]["schemas"]["NewEdit"]
    assert schema["required"] == ["image", "instruction"]
    image = schema["properties"]["image"]
    assert image["items"] == {"type": "string", "format": "binary"}
    assert (image["minItems"], image["maxItems"]) == (1, settings.GAITU_MAX_INPUTS)
    assert schema["properties"]["model"]["enum"] == [*settings.GAITU_MODELS, ""]
    instruction = schema["properties"]["instruction"]
    assert instruction["maxLength"] == 4000
    blank = jsonschema_rs.validator_for(instruction)
    assert [blank.is_valid(text) for text in ("blur", " sepia ", "", " \t\u3000", "a\x00")] == [
        True, True, False, False, False,
    ]  # fmt: skip


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
    settings.GAITU_STORAGE_QUOTA_MB = 0
    settings.GAITU_UPLOAD_MAX_MB = 1
    whole = call(
        "post", "/edits", 413, data={"instruction": "x", "image": upload(data=b"\xff" * 6 * 2**20)}
    )
    assert whole.json()["error"]["code"] == "request_too_large"
    one = call(
        "post", "/edits", 413, data={"instruction": "x", "image": upload(data=b"\xff" * 2 * 2**20)}
    )
    assert one.json()["error"]["code"] == "file_too_large"

    # The gallery as a ZIP (the download itself, and imports that work: test_exports_api.py).
    with run_jobs():
        export = call("post", "/exports", 202).json()
    assert call("get", f"/exports/{export['id']}", 200).json()["status"] == "done"
    running = GalleryExport.objects.create(owner=waiting.owner, status="running")
    call("get", f"/exports/{running.pk}/download", 409)
    with run_jobs():
        job = call("post", "/imports", 202, data={"archive": upload("x.zip", b"no")}).json()
    assert call("get", f"/imports/{job['id']}", 200).json()["error"]["code"] == "not_a_zip"

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
