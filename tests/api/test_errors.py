"""Bad requests get the API's JSON error, never a 500 or one of Django's HTML pages."""

import uuid
from datetime import datetime

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import reverse

from editor.models import Edit
from tests.support.factories import image_bytes, upload

EDIT_OPERATIONS = [
    ("get", ""),
    ("delete", ""),
    ("post", "/cancel"),
    ("post", "/retry"),
    ("post", "/share"),
    ("delete", "/share"),
]


@pytest.fixture
def api(client, owner_token):
    """Requests with the owner's token; each answer must be the API's JSON."""

    def api(method: str, path: str, **kwargs):
        kwargs.setdefault("HTTP_AUTHORIZATION", f"Bearer {owner_token}")
        response = getattr(client, method)(path, **kwargs)
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        return response

    return api


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=abc", 400, "invalid"),
        ("page=1.5", 400, "invalid"),
        ("page=0", 400, "invalid"),
        ("page=-3", 400, "invalid"),
        ("page=2", 404, "not_found"),
        ("page=99999999999999999999999", 404, "not_found"),
    ],
)
def test_a_page_that_is_not_there(api, query, status, code):
    response = api("get", f"/api/v1/edits?{query}")
    assert response.status_code == status
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, "page")


def test_a_status_that_does_not_exist(api):
    error = error_of(api("get", "/api/v1/edits?status=finished"))
    assert (error["code"], error["field"]) == ("invalid", "status")
    assert "succeeded" in error["message"]


def test_empty_filters_count_as_left_out(api, owner):
    Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    response = api("get", "/api/v1/edits?status=&page=")
    assert response.status_code == 200
    assert (response.json()["count"], response.json()["page"]) == (1, 1)


@pytest.mark.parametrize(("method", "suffix"), EDIT_OPERATIONS)
@pytest.mark.parametrize("edit_id", ["abc", "1", "0" * 40, f"{uuid.uuid4()}x", "%20"])
def test_what_is_not_an_edit_id_names_no_edit(api, method, suffix, edit_id):
    response = api(method, f"/api/v1/edits/{edit_id}{suffix}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/nothing", "/api/v1/edits/", "/api/v1/edits/x/y/z", "/api/v1/v2"]
)
def test_an_unknown_address(api, path):
    response = api("get", path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_method_the_address_does_not_take(api):
    response = api("put", "/api/v1/edits")
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert error_of(response)["code"] == "method_not_allowed"


def test_no_token_is_asked_for_the_way_http_says(api):
    response = api("get", "/api/v1/models", HTTP_AUTHORIZATION="")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="gaitu"'
    assert error_of(response)["code"] == "unauthorized"


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    boundary = b"gaitu-boundary"
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += b"--" + boundary + f"\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize("length", [300, 1000, 5000])
def test_a_very_long_file_name_is_taken_and_cut_to_size(api, length):
    """Past Django's 1 KB of part headers too (webapp/request_limits.py); see also
    tests/web/test_upload_names.py for names of every kind."""
    name = "a" * length + ".jpg"
    body = multipart(("instruction", None, b"blur"), ("image", name, image_bytes()))
    response = api(
        "post",
        "/api/v1/edits",
        data=body,
        content_type="multipart/form-data; boundary=gaitu-boundary",
    )
    assert response.status_code == 202, response.content
    kept = Edit.objects.get().sources.get().filename
    assert (len(kept), kept[-5:]) == (200, "….jpg")


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=", "multipart/mixed"]
)
def test_a_body_that_is_not_a_form(api, content_type):
    response = api("post", "/api/v1/edits", data=b"--x\r\nnot a form", content_type=content_type)
    assert response.status_code == 400
    assert not Edit.objects.exists()


def test_too_many_files(api, settings):
    files = [upload(f"p{n}.jpg") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = api("post", "/api/v1/edits", data={"instruction": "blur", "image": files})
    assert response.status_code == 400
    assert error_of(response)["code"] == "too_many"


def test_too_many_pictures_for_one_edit(api, settings):
    files = [upload(f"p{n}.jpg") for n in range(settings.GAITU_MAX_INPUTS + 1)]
    response = api("post", "/api/v1/edits", data={"instruction": "blur", "image": files})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == ("too_many", "image")


def test_share_settings_are_read_as_forgivingly_as_ever(api, run_jobs):
    with run_jobs():
        created = api("post", "/api/v1/edits", data={"instruction": "x", "image": upload()})
    url = reverse("api_edit_share", args=[created.json()["id"]])
    assert api("post", url).json()["show_original"] is True  # left out: shown
    for value, shown in [("no", False), ("0", False), ("maybe", False), (" TRUE ", True)]:
        assert api("post", url, data={"show_original": value}).json()["show_original"] is shown
    assert api("post", url, data={"show_instruction": "off"}).json()["show_instruction"] is False


def test_share_settings_that_cannot_be_read(api, owner, settings):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    url = reverse("api_edit_share", args=[edit.pk])
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = "&".join(f"f{n}=1" for n in range(11))
    many = api("post", url, data=fields, content_type="application/x-www-form-urlencoded")
    assert (many.status_code, error_of(many)["code"]) == (400, "too_many")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = api("post", url, data={"show_original": "x" * 2000})
    assert (big.status_code, error_of(big)["code"]) == (413, "request_too_large")


def test_editing_a_result_again(api, run_jobs):
    with run_jobs():
        first = api("post", "/api/v1/edits", data={"instruction": "blur", "image": upload()})
    parent = f"{first.json()['id']}:0"  # its first result
    with run_jobs():
        again = api("post", "/api/v1/edits", data={"instruction": "sepia", "parent": parent})
    assert again.status_code == 202, again.content
    detail = api("get", again.json()["url"]).json()
    assert (detail["status"], len(detail["sources"])) == ("succeeded", 1)
    missing = api("post", "/api/v1/edits", data={"instruction": "x", "parent": f"{uuid.uuid4()}:0"})
    assert (missing.status_code, error_of(missing)["field"]) == (400, "parent")


def test_times_are_written_as_they_always_were(api, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    created = api("get", reverse("api_edit", args=[edit.pk])).json()["created"]
    assert created == edit.created_at.isoformat()
    assert datetime.fromisoformat(created) == edit.created_at


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (RuntimeError("the disk controller caught fire"), 500, "server_error"),
        (PermissionDenied(), 403, "forbidden"),
        (SuspiciousOperation("odd"), 400, "bad_request"),
    ],
)
def test_what_no_handler_names_is_still_the_apis_json(
    owner_token, monkeypatch, caplog, raised, status, code
):
    def breaks(*args, **kwargs):
        raise raised

    monkeypatch.setattr("api.edits.chosen_edits", breaks)
    # As a server runs: the exception is answered, not raised into the test.
    client = Client(raise_request_exception=False)
    response = client.get(reverse("api_edits"), HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert error_of(response)["code"] == code
    assert "caught fire" not in response.text and "Traceback" not in response.text
    if status == 500:  # logged as Django logs a page's, with the traceback
        (record,) = [r for r in caplog.records if r.name == "django.request"]
        assert record.levelname == "ERROR" and record.exc_info[1] is raised
