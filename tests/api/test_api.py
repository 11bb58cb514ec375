import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.models import ApiToken
from editor.models import Edit, ResultImage, SourceImage
from tests.support.factories import image_bytes, upload


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def create(client, token, run_jobs, **fields):
    data = {"instruction": "invert the colours", **fields}
    data.setdefault("image", upload())
    with run_jobs():
        return client.post(reverse("api_edits"), data, **bearer(token))


def test_create_api_token_command_prints_a_working_token(owner):
    out = io.StringIO()
    call_command("create_api_token", "owner", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("gtu_")
    assert ApiToken.authenticate(raw) == owner
    assert not ApiToken.objects.filter(digest=raw).exists()  # only the hash is stored


def test_last_use_is_recorded_to_the_minute_without_a_write_per_request(owner):
    token, raw = ApiToken.issue(owner)
    assert ApiToken.authenticate(raw) == owner
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    ApiToken.authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first  # within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    ApiToken.authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_create_api_token_for_unknown_user(db):
    with pytest.raises(Exception, match="no user named 'ghost'"):
        call_command("create_api_token", "ghost")


def test_edit_through_the_api(client, owner_token, run_jobs):
    response = create(client, owner_token, run_jobs)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"].endswith(reverse("api_edit", args=[body["id"]]))

    detail = client.get(body["url"], **bearer(owner_token)).json()
    assert detail["status"] == "succeeded"
    assert detail["error"] is None
    assert (detail["stage"], detail["progress"]) == ("done", 100)
    assert detail["instruction"] == "invert the colours"
    assert detail["model"] == "gpt-4o-image"
    assert detail["finished"] and detail["created"]
    assert detail["results"][0]["width"] == 64 and detail["results"][0]["height"] == 48

    result = client.get(detail["results"][0]["url"], **bearer(owner_token))
    original = client.get(detail["sources"][0]["url"], **bearer(owner_token))
    inverted = Image.open(io.BytesIO(b"".join(result.streaming_content))).convert("RGB")
    before = Image.open(io.BytesIO(b"".join(original.streaming_content))).convert("RGB")
    r, g, b = before.getpixel((60, 40))
    ir, ig, ib = inverted.getpixel((60, 40))
    assert abs((255 - r) - ir) < 20 and abs((255 - g) - ig) < 20 and abs((255 - b) - ib) < 20


def test_api_reports_a_failure(client, owner_token, run_jobs):
    body = create(client, owner_token, run_jobs, instruction="blur [demo:fail=429]").json()
    detail = client.get(body["url"], **bearer(owner_token)).json()
    assert detail["status"] == "failed"
    assert detail["error"]["code"] == "rate_limited"
    assert detail["error"]["message"]
    assert detail["results"] == []
    assert len(detail["sources"]) == 1


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"image": upload("a.png", b"GIF89a nope", "image/gif")}, "invalid_image", "image"),
        ({"instruction": ""}, "required", "instruction"),
        ({"model": "not-a-model"}, "invalid_choice", "model"),
    ],
)
def test_api_validation_errors(client, owner_token, run_jobs, fields, code, field):
    response = create(client, owner_token, run_jobs, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert not Edit.objects.exists()


def test_api_without_an_image_makes_one_from_the_words(client, owner_token, run_jobs):
    response = create(client, owner_token, run_jobs, image=[], instruction="a blue circle")
    assert response.status_code == 202
    detail = client.get(response.json()["url"], **bearer(owner_token)).json()
    assert (detail["kind"], detail["sources"], detail["status"]) == ("generation", [], "succeeded")


@pytest.mark.parametrize("token", ["", "gtu_wrong", "Basic abc"])
def test_api_needs_a_valid_token(client, db, token):
    headers = bearer(token) if token else {}
    response = client.post(reverse("api_edits"), {"instruction": "x"}, **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_another_users_edit_is_not_found(client, owner_token, stranger, run_jobs):
    body = create(client, owner_token, run_jobs).json()
    stranger_token = ApiToken.issue(stranger)[1]
    assert client.get(body["url"], **bearer(stranger_token)).status_code == 404
    detail = client.get(body["url"], **bearer(owner_token)).json()
    assert client.get(detail["results"][0]["url"], **bearer(stranger_token)).status_code == 404


def test_api_does_not_accept_a_session(owner_client, owner, run_jobs):
    response = owner_client.post(reverse("api_edits"), {"instruction": "x", "image": upload()})
    assert response.status_code == 401


def test_shaped_payload_reaches_the_gateway_small(client, owner_token, run_jobs, settings):
    settings.GAITU_SEND_MAX_SIDE = 32
    big = upload("big.png", image_bytes((200, 100), "PNG"), "image/png")
    body = create(client, owner_token, run_jobs, image=big, instruction="mirror").json()
    detail = client.get(body["url"], **bearer(owner_token)).json()
    assert (detail["results"][0]["width"], detail["results"][0]["height"]) == (32, 16)


def test_cancel_and_retry_through_the_api(
    client, owner_token, owner, django_capture_on_commit_callbacks
):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    cancel = reverse("api_edit_cancel", args=[edit.pk])
    retry = reverse("api_edit_retry", args=[edit.pk])
    assert client.post(retry, **bearer(owner_token)).status_code == 409
    response = client.post(cancel, **bearer(owner_token))
    assert (response.status_code, response.json()["status"]) == (200, "canceled")
    assert client.post(cancel, **bearer(owner_token)).json()["error"]["code"] == "not_active"
    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(retry, **bearer(owner_token))
    assert (response.status_code, response.json()["status"], len(enqueued)) == (202, "queued", 1)


def test_cancel_of_another_users_edit_is_not_found(client, owner, stranger):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    token = ApiToken.issue(stranger)[1]
    for name in ("api_edit_cancel", "api_edit_retry"):
        assert client.post(reverse(name, args=[edit.pk]), **bearer(token)).status_code == 404
    assert Edit.objects.get(pk=edit.pk).status == "queued"


def test_a_token_needs_no_csrf_token(owner, owner_token, run_jobs):
    """Only a token gets in, never a cookie, so there is nothing to forge and no CSRF check."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    with run_jobs():
        response = browser.post(
            reverse("api_edits"), {"instruction": "blur", "image": upload()}, **bearer(owner_token)
        )
    assert response.status_code == 202


def test_a_page_of_edits_costs_the_same_queries_however_full(client, owner, owner_token):
    def queries_for_a_page_of(count: int) -> int:
        for n in range(count):
            edit = Edit.objects.create(owner=owner, instruction=f"edit {n}", model="gpt-4o-image")
            SourceImage.objects.create(edit=edit, position=0, width=1, height=1)
            ResultImage.objects.create(edit=edit, position=0, width=1, height=1)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("api_edits"), **bearer(owner_token)).status_code == 200
        return len(queries)

    queries_for_a_page_of(0)  # the token's first use is recorded once, not with every request
    assert queries_for_a_page_of(1) == queries_for_a_page_of(10) <= 6
