"""gateway.fetch.post_json and check_link: the download rules, for a POST."""

import pytest

from gateway.fetch import FetchError, check_link, post_json

from .receiver import serve


@pytest.fixture
def local():
    with serve("whsec_x") as running:
        yield running


def test_posts_the_body_to_an_allowed_host(local):
    status = post_json(local.url, b'{"a":1}', headers={"X-Test": "yes"}, allow_hosts=["127.0.0.1"])
    assert status == 401  # the body is not signed with the receiver's secret: it says so
    [request] = local.received
    assert request.body == b'{"a":1}'
    assert request.headers["X-Test"] == "yes"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Gaitu/1.0"


def test_loopback_is_refused_before_connecting(local):
    with pytest.raises(FetchError) as refused:
        post_json(local.url, b"{}")
    assert (refused.value.code, refused.value.refusal) == ("link_blocked", "loopback_address")
    assert local.received == []


def test_a_redirect_is_answered_not_followed(local):
    with serve("whsec_x") as elsewhere:
        local.redirect_to = elsewhere.url
        assert post_json(local.url, b"{}", allow_hosts=["127.0.0.1"]) == 302
        assert elsewhere.received == []


def test_no_answer_is_a_download_failure():
    with pytest.raises(FetchError) as failed:
        post_json("http://127.0.0.1:9/", b"{}", allow_hosts=["127.0.0.1"])
    assert failed.value.code == "download_failed"
    assert failed.value.reason.startswith("connection failed")


def test_a_name_is_resolved_and_every_address_checked(monkeypatch):
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["8.8.8.8", "10.0.0.1"])
    with pytest.raises(FetchError) as refused:
        check_link("https://mixed.example/hook")
    assert refused.value.refusal == "private_address"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("gopher://x.example/", "scheme_not_allowed"),
        ("https://a:b@x.example/", "credentials_in_link"),
        ("http://[::1]/", "loopback_address"),
        ("http://0x7f.1/", "loopback_address"),
    ],
)
def test_check_link_refuses_what_a_download_would(url, rule):
    with pytest.raises(FetchError) as refused:
        check_link(url)
    assert refused.value.refusal == rule


def test_connects_to_the_checked_address_with_the_name_in_host(local, monkeypatch):
    # 127.0.0.1 passes for public here, so the request shows where it went: to the address the
    # check saw, never to one httpx would look up again (there is no such name).
    monkeypatch.setattr("gateway.fetch.address_problem", lambda address: None)
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["127.0.0.1"])
    port = local.url.split(":")[2].split("/")[0]
    assert post_json(f"http://hooks.test:{port}/hook", b"{}") == 401
    assert local.received[0].headers["Host"] == f"hooks.test:{port}"


def test_the_next_address_is_tried_only_when_none_took_the_connection(local, monkeypatch):
    monkeypatch.setattr("gateway.fetch.address_problem", lambda address: None)
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["127.0.0.2", "127.0.0.1"])
    port = local.url.split(":")[2].split("/")[0]
    assert post_json(f"http://two.test:{port}/hook", b"{}") == 401  # nothing on 127.0.0.2
    assert len(local.received) == 1
