"""The OpenAPI description matches what the API does: every documented operation is called,
and every answer's status is documented and its body fits the documented schema."""

import re

import pytest
from django.urls import reverse

from editor.models import Edit
from tests.support.factories import upload

SPEC_URL = "/api/v1/openapi.json"


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def problems(spec: dict, schema: dict, value, where: str = "$") -> list[str]:
    """A small JSON Schema check: type, enum, required, properties, items, oneOf, bounds."""
    schema = resolve(spec, schema)
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not problems(spec, s, value, where)]
        return [] if len(fits) == 1 else [f"{where}: fits {len(fits)} of oneOf"]
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    python = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if types and not any(
        isinstance(value, int) and not isinstance(value, bool)
        if t == "integer"
        else isinstance(value, python[t])
        for t in types
    ):
        return [f"{where}: {value!r} is not {types}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        found += [
            f"{where}: missing {key}" for key in schema.get("required", []) if key not in value
        ]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(spec, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            found += problems(spec, schema["items"], item, f"{where}[{n}]")
    if isinstance(value, int) and "maximum" in schema and value > schema["maximum"]:
        found.append(f"{where}: {value} > {schema['maximum']}")
    return found


@pytest.fixture
def spec(client, db):
    response = client.get(SPEC_URL)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def call(client, spec, owner_token):
    checked = set()

    def call(method: str, path: str, expect: int, token: str | None = owner_token, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = getattr(client, method)(f"/api/v1{path}", **kwargs, **headers)
        assert response.status_code == expect, response.content
        template = re.sub(r"[0-9a-f-]{36}", "{id}", path.split("?")[0])
        operation = spec["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented, f"{method.upper()} {template} answered {response.status_code}"
        content = documented.get("content", {}).get("application/json")
        if content:
            assert problems(spec, content["schema"], response.json()) == []
        else:
            assert not response.content
        checked.add((template, method))
        return response

    call.checked = checked
    return call


def test_spec_is_served_without_login_and_is_well_formed(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"][0]["url"] == "http://testserver/api/v1"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (path, method)


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

    settings.GAITU_RATE_LIMIT = 1
    limited = call("post", "/edits", 429, data={"instruction": "blur", "image": upload()})
    assert int(limited["Retry-After"]) >= 1
    settings.GAITU_RATE_LIMIT = 0
    settings.GAITU_UPLOAD_MAX_MB = 1
    call(
        "post", "/edits", 413, data={"instruction": "x", "image": upload(data=b"\xff" * 6 * 2**20)}
    )

    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == call.checked


def test_delete_removes_the_files(client, owner_token, run_jobs, media_root):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    with run_jobs():
        body = client.post(reverse("api_edits"), {"instruction": "x", "image": upload()}, **headers)
    assert any(p.is_file() for p in media_root.rglob("*"))
    with run_jobs():
        client.delete(body.json()["url"], **headers)
    assert not any(p.is_file() for p in media_root.rglob("*"))
