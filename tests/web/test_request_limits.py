"""A request body over its limit is answered 413 without being read, where the caller reads
it: the API's JSON, the studio's form, a page. Through Django's test client (a WSGI-like
handler) and through the ASGI application itself, with the body counted as it is taken;
tests/e2e/test_request_limits_live.py sends them to a running server over a socket.
"""

import asyncio
import json

import pytest
from django.urls import reverse

from editor.limits import edit_body_max_bytes
from editor.models import Edit
from tests.support.factories import image_bytes, upload
from webapp.asgi import RefuseLargeBodies, application
from webapp.request_limits import BODY_REFUSED

HUGE = str(600 * 2**20)  # said in the headers; the body sent is a few bytes
MULTIPART = "multipart/form-data; boundary=x"


def over_limit(client, path: str, **headers):
    """A POST that says it is 600 MB and is not: the test client's payload refuses any read
    past what it holds, so an answer proves nothing tried to read the rest."""
    return client.post(
        path, data=b"--x\r\n", content_type=MULTIPART, CONTENT_LENGTH=HUGE, **headers
    )


@pytest.fixture
def small_limits(settings):
    settings.GAITU_UPLOAD_MAX_MB = 1
    settings.GAITU_MAX_INPUTS = 2
    settings.GAITU_BATCH_MAX = 1
    return settings


def test_the_api_answers_413_in_json(client, owner_token):
    response = over_limit(client, reverse("api_edits"), HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "request_too_large",
            "message": "The upload is too large: an edit takes at most 4 pictures of up to "
            "20 MB each, a batch at most 20.",
        }
    }
    assert "Connection" not in response  # said only under ASGI (see below)
    assert not Edit.objects.exists()


def test_the_answer_is_in_the_callers_language(client, owner_token):
    response = over_limit(
        client,
        reverse("api_edits"),
        HTTP_AUTHORIZATION=f"Bearer {owner_token}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "一次编辑最多 4 张图片" in response.json()["error"]["message"]


def test_the_studio_says_it_in_its_form(owner_client, owner):
    fragment = over_limit(owner_client, reverse("studio"), HTTP_HX_REQUEST="true")
    # htmx swaps no 4xx answer: the refusal comes as 200, put in the form's feedback region
    # (the form, with the pictures chosen, stays as it is).
    assert (fragment.status_code, fragment["HX-Retarget"]) == (200, "#upload-feedback")
    assert 'id="upload-feedback"' in fragment.text
    assert "The upload is too large: an edit takes at most 4 pictures" in fragment.text
    assert not Edit.objects.exists()
    # Without htmx, a page of its own: answered before the view's checks (two-factor sign-in
    # among them), it shows nothing of the person's, not their recent edits.
    Edit.objects.create(owner=owner, instruction="a secret of mine")
    page = over_limit(owner_client, reverse("studio"))
    assert page.status_code == 413
    assert "The upload is too large" in page.text and "<html" in page.text
    assert "a secret of mine" not in page.text and 'id="upload-form"' not in page.text
    assert Edit.objects.count() == 1


def test_any_other_page_answers_with_a_page_of_its_own(client):
    response = over_limit(client, reverse("login"))
    assert response.status_code == 413
    assert "The upload is too large" in response.text and "<html" in response.text


def test_a_body_within_the_limit_goes_through(owner_client, run_jobs, small_limits):
    pictures = [upload(f"p{n}.jpg") for n in range(2)]
    with run_jobs():
        response = owner_client.post(reverse("studio"), {"instruction": "x", "images": pictures})
    assert response.status_code == 302
    assert Edit.objects.get().status == "succeeded"


def test_an_import_has_a_limit_of_its_own(client, owner_token, run_jobs, small_limits, monkeypatch):
    api = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    # Over what an edit takes (3 MB here), within what an import takes: read, and imported.
    archive = upload("gallery.zip", b"\0" * (edit_body_max_bytes() + 2**20), "application/zip")
    with run_jobs():
        taken = client.post(reverse("api_imports"), {"archive": archive}, **api)
    assert taken.status_code == 202, taken.content
    assert taken.json()["status"] in ("queued", "failed")  # it is no ZIP: refused in the job
    monkeypatch.setattr("exports.importing.IMPORT_MAX_MB", 2)
    refused = over_limit(client, reverse("api_imports"), **api)
    assert refused.status_code == 413
    assert refused.json()["error"] == {
        "code": "request_too_large",
        "message": "The archive is larger than 2 MB, the most Gaitu imports at once.",
    }
    page = over_limit(client, reverse("import_gallery"))
    assert page.status_code == 413 and "The archive is larger than 2 MB" in page.text


def test_one_picture_over_its_limit_is_413_too(client, owner_client, owner_token, small_limits):
    big = upload("big.jpg", image_bytes((1200, 1200), quality=100) + b"\0" * 2**20)
    assert big.size > 2**20  # over 1 MB, within the whole body's 3 MB
    answer = client.post(
        reverse("api_edits"),
        {"instruction": "x", "image": big},
        HTTP_AUTHORIZATION=f"Bearer {owner_token}",
    )
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("file_too_large", "image")
    assert error["message"].startswith("big.jpg: The file is ")
    big.seek(0)
    page = owner_client.post(reverse("studio"), {"instruction": "x", "images": big})
    assert page.status_code == 413 and "big.jpg: The file is " in page.text
    assert not Edit.objects.exists()


# --- The ASGI application: the body is not taken from the server -------------------------


class Server:
    """What an ASGI server gives the application: a request body that never ends (the client
    keeps sending), and a place for the answer."""

    def __init__(self, piece: bytes = b"x" * 60) -> None:
        self.piece = piece
        self.taken = 0  # body messages the application asked for
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        self.taken += 1
        return {"type": "http.request", "body": self.piece, "more_body": True}

    async def send(self, message: dict) -> None:
        self.sent.append(message)


def http_scope(path: str = "/api/v1/edits", **headers: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


class Recorder:
    """An application that reads the body as Django's does, and keeps what it got."""

    def __init__(self) -> None:
        self.scope: dict = {}
        self.body = b""

    async def __call__(self, scope, receive, send) -> None:
        self.scope = scope
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        # Then, as Django does while it answers, it listens for the client leaving.
        listening = asyncio.ensure_future(receive())
        for _turn in range(5):
            await asyncio.sleep(0)
        assert not listening.done()  # the server is not asked for more of the body
        listening.cancel()


def test_a_length_over_the_limit_is_not_read_at_all():
    app, server = Recorder(), Server()
    guarded = RefuseLargeBodies(app, limit_for=lambda path: 100)
    asyncio.run(guarded(http_scope(**{"content-length": "101"}), server.receive, server.send))
    assert (server.taken, app.body, app.scope[BODY_REFUSED]) == (0, b"", 100)


@pytest.mark.parametrize("length", ["-5", "12abc", "  "])
def test_a_length_that_is_no_number_is_not_read_either(length):
    app, server = Recorder(), Server()
    guarded = RefuseLargeBodies(app, limit_for=lambda path: 100)
    asyncio.run(guarded(http_scope(**{"content-length": length}), server.receive, server.send))
    assert (server.taken, BODY_REFUSED in app.scope) == (0, True)


def test_a_body_without_a_length_is_read_only_up_to_the_limit():
    app, server = Recorder(), Server(piece=b"x" * 60)
    guarded = RefuseLargeBodies(app, limit_for=lambda path: 100)
    asyncio.run(
        guarded(http_scope(**{"transfer-encoding": "chunked"}), server.receive, server.send)
    )
    # 60 bytes, then 120 > 100: the body ends there for the application, marked.
    assert (server.taken, app.body, app.scope[BODY_REFUSED]) == (2, b"x" * 60, 100)


@pytest.mark.parametrize("headers", [{"content-length": "100"}, {}])
def test_a_body_within_the_limit_is_untouched(headers):
    app = Recorder()
    messages = [
        {"type": "http.request", "body": b"a" * 60, "more_body": True},
        {"type": "http.request", "body": b"b" * 40, "more_body": False},
    ]

    async def receive() -> dict:
        return messages.pop(0) if messages else await asyncio.Future()

    guarded = RefuseLargeBodies(app, limit_for=lambda path: 100)
    asyncio.run(guarded(http_scope(**headers), receive, Server().send))
    assert (app.body, BODY_REFUSED in app.scope) == (b"a" * 60 + b"b" * 40, False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("headers", "pieces_taken"),
    [
        ({"content-length": HUGE}, 0),
        # 1 MB pieces: the limit's 3, and the one past it.
        ({"transfer-encoding": "chunked"}, 4),
    ],
)
def test_gaitus_asgi_application_answers_413_and_closes(headers, pieces_taken, small_limits):
    server = Server(piece=b"x" * 2**20)
    asyncio.run(application(http_scope(**headers), server.receive, server.send))
    start, *rest = server.sent
    answer = {name.lower(): value for name, value in start["headers"]}
    assert (start["status"], answer[b"connection"]) == (413, b"close")
    body = b"".join(message.get("body", b"") for message in rest)
    assert json.loads(body)["error"]["code"] == "request_too_large"
    assert edit_body_max_bytes() == 3 * 2**20
    assert server.taken == pieces_taken  # not one piece more
