"""/api/v1/webhooks: register (the secret shown once), list, delete; each token its own."""

import json

import pytest

from accounts.models import ApiToken
from webhooks.models import Delivery, Webhook

HOOK = "https://hooks.example/gaitu"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """Names resolve to a public address, without asking DNS."""
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def raw_token(owner) -> str:
    return ApiToken.issue(owner, name="script")[1]


def call(client, method: str, path: str, raw: str, body: object = None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    if body is None:
        return getattr(client, method)(path, **extra)
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(client, method)(path, data, content_type="application/json", **extra)


def create(client, raw: str, url: str = HOOK):
    return call(client, "post", "/api/v1/webhooks", raw, {"url": url})


def test_registering_answers_the_secret_once(client, raw_token):
    response = create(client, raw_token)

    assert response.status_code == 201
    made = response.json()
    webhook = Webhook.objects.get()
    assert made["id"] == webhook.pk and made["url"] == HOOK
    assert made["secret"] == webhook.secret and made["secret"].startswith("whsec_")
    assert webhook.token.digest == ApiToken.hash(raw_token)
    assert webhook.origin == "http://testserver"

    listed = call(client, "get", "/api/v1/webhooks", raw_token)
    assert listed.status_code == 200
    assert listed.json() == [
        {"id": webhook.pk, "url": HOOK, "created": made["created"], "last_delivery": None}
    ]
    assert webhook.secret not in listed.text


def test_the_list_says_how_the_last_delivery_went(client, raw_token):
    webhook = Webhook.objects.get(pk=create(client, raw_token).json()["id"])
    Delivery.objects.create(
        webhook=webhook, event="edit.ended", subject="edit:1", payload={}, status="delivered"
    )
    newest = Delivery.objects.create(
        webhook=webhook,
        event="batch.ended",
        subject="group:1",
        payload={},
        attempts=2,
        last_status_code=500,
        last_error="HTTP 500",
    )
    Delivery.objects.filter(pk=newest.pk).update(last_attempt_at=newest.created_at)

    [listed] = call(client, "get", "/api/v1/webhooks", raw_token).json()
    assert listed["last_delivery"] == {
        "event": "batch.ended",
        "status": "pending",
        "attempted": newest.created_at.isoformat(),
        "status_code": 500,
    }


def test_another_token_neither_sees_nor_deletes_it(client, raw_token, owner, stranger):
    made = create(client, raw_token).json()
    for other in (ApiToken.issue(owner)[1], ApiToken.issue(stranger)[1]):
        assert call(client, "get", "/api/v1/webhooks", other).json() == []
        deleting = call(client, "delete", f"/api/v1/webhooks/{made['id']}", other)
        assert deleting.status_code == 404
        assert deleting.json()["error"]["code"] == "not_found"
    assert Webhook.objects.filter(pk=made["id"]).exists()


def test_deleting(client, raw_token):
    made = create(client, raw_token).json()
    assert call(client, "delete", f"/api/v1/webhooks/{made['id']}", raw_token).status_code == 204
    assert not Webhook.objects.exists()
    assert call(client, "delete", f"/api/v1/webhooks/{made['id']}", raw_token).status_code == 404


def test_a_token_is_needed(client, db):
    assert client.get("/api/v1/webhooks").status_code == 401
    response = client.post("/api/v1/webhooks", {"url": HOOK}, content_type="application/json")
    assert response.status_code == 401 and not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("ftp://hooks.example/x", "scheme_not_allowed", "http:// or https://"),
        ("file:///etc/passwd", "invalid", "Enter a valid URL"),
        ("http://127.0.0.1:8000/hook", "loopback_address", "loopback address"),
        ("http://localhost/hook", "loopback_address", "loopback address"),
        ("http://10.0.0.7/hook", "private_address", "private network address"),
        ("http://169.254.169.254/latest", "link_local_address", "metadata service"),
        ("https://user:pw@hooks.example/x", "credentials_in_link", "user name or password"),
        ("", "required", "This field is required"),
    ],
)
def test_refused_addresses_are_a_clear_400(client, raw_token, url, code, words):
    response = create(client, raw_token, url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, "url")
    assert words in error["message"]
    assert not Webhook.objects.exists()


def test_the_allow_list_lets_a_local_receiver_in(client, raw_token, settings):
    assert "GAITU_FETCH_ALLOW_HOSTS" in create(client, raw_token, "http://127.0.0.1/h").text
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    assert create(client, raw_token, "http://127.0.0.1:8000/hook").status_code == 201


def test_a_name_of_a_private_address_is_refused(client, raw_token, monkeypatch):
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["192.168.1.20"])
    response = create(client, raw_token, "https://printer.lan/hook")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "private_address"


def test_a_name_that_does_not_resolve_is_refused(client, raw_token, monkeypatch):
    def nowhere(host, port):
        raise OSError("no such name")

    monkeypatch.setattr("gateway.fetch.resolve_host", nowhere)
    response = create(client, raw_token, "https://nowhere.example/hook")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unresolved_host"


@pytest.mark.parametrize("body", ["not json", "[1]", '"https://hooks.example"', "null"])
def test_a_body_that_is_not_an_object(client, raw_token, body):
    response = call(client, "post", "/api/v1/webhooks", raw_token, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_token_has_so_many_at_most(client, raw_token):
    for _ in range(Webhook.MAX_PER_TOKEN):
        assert create(client, raw_token).status_code == 201
    response = create(client, raw_token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many"
    assert Webhook.objects.count() == Webhook.MAX_PER_TOKEN
