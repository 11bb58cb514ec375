"""Redirects are followed only to links that pass the same checks, and only three deep."""

import pytest

from gateway import fetch
from gateway.fetch import fetch_image
from tests.support.fetch_servers import LOCAL, PNG, Server, fails, fake_dns, ok, redirect
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import server as server


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.5/x.png", "address 10.0.0.5 is private"),
        ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local"),
        ("http://localhost/x.png", "host localhost is local"),
        ("http://[::ffff:10.0.0.5]/x.png", "address 10.0.0.5 is private"),
        ("file:///etc/passwd", "scheme 'file' not allowed"),
        ("data:image/png;base64,AAAA", "scheme 'data' not allowed"),
        ("http://u:p@example.com/", "credentials in URL"),
    ],
)
def test_redirect_to_forbidden_target_blocked(server: Server, location, reason, monkeypatch):
    fake_dns(monkeypatch, {})
    server.routes["/r"] = redirect(location)
    assert fails(server.url("/r"), "link_blocked", allow_hosts=LOCAL).reason == reason
    assert server.hits["/r"] == 1  # blocked links are not retried


def test_redirect_from_public_name_to_private_name_blocked(server: Server, monkeypatch) -> None:
    inside = fetch.Refusal("private_address", "bad")
    monkeypatch.setattr(fetch, "address_problem", lambda a: None if a == "127.0.0.1" else inside)
    fake_dns(monkeypatch, {"public.test": ["127.0.0.1"], "inside.test": ["10.0.0.5"]})
    server.routes["/r"] = redirect("http://inside.test/x.png")
    refused = fails(f"http://public.test:{server.port}/r", "link_blocked")
    assert (refused.reason, refused.refusal) == ("bad", "private_address")


@pytest.mark.parametrize(("hops", "succeeds"), [(3, True), (4, False)])
def test_redirect_chain_limit(server: Server, hops: int, succeeds: bool) -> None:
    for n in range(hops):  # relative, absolute-path and absolute Locations
        target = ["r1", f"/r{n + 1}", server.url(f"/r{n + 1}")][n % 3]
        server.routes[f"/r{n}"] = redirect(target, [301, 302, 303, 307, 308][n])
    server.routes[f"/r{hops}"] = ok()
    if succeeds:
        assert fetch_image(server.url("/r0"), allow_hosts=LOCAL).data == PNG
    else:
        assert fails(server.url("/r0"), allow_hosts=LOCAL).reason == "more than 3 redirects"
        assert server.hits[f"/r{hops}"] == 0


def test_redirect_without_location_is_a_failure(server: Server) -> None:
    server.routes["/r"] = lambda h: h.reply(302, ctype="text/plain")
    assert fails(server.url("/r"), allow_hosts=LOCAL).reason == "HTTP 302"
