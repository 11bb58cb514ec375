"""X-Forwarded-For and X-Forwarded-Proto are believed from GAITU_TRUSTED_PROXIES only.

Real `manage.py serve` processes on loopback, served over plain HTTP with GAITU_HTTPS=1 as
behind a TLS proxy. What Django was told (REMOTE_ADDR, the scheme) is read off a test-only
probe page (tests/support/probe_urls.py); what Gaitu does with the scheme, off its login page.
Any 127.x.y.z is this machine, so a connection from 127.0.0.2 is one from an untrusted peer.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live import PASSWORD, Gaitu, split_gaitu

ONE_YEAR = 365 * 24 * 60 * 60
PROBES = {"DJANGO_SETTINGS_MODULE": "tests.support.probe_settings", "GAITU_HTTPS": "1"}
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def untrusting() -> Iterator[Gaitu]:
    """GAITU_TRUSTED_PROXIES unset: nobody's forwarded headers are believed."""
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-no-proxy-") as folder,
        split_gaitu(Path(folder), with_worker=False, **PROBES) as gaitu,
    ):
        yield gaitu


@pytest.fixture(scope="module")
def behind_proxy() -> Iterator[Gaitu]:
    """A TLS proxy on this machine: GAITU_TRUSTED_PROXIES=127.0.0.1."""
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-proxy-") as folder,
        split_gaitu(
            Path(folder), with_worker=False, GAITU_TRUSTED_PROXIES="127.0.0.1", **PROBES
        ) as gaitu,
    ):
        gaitu.manage(
            "createsuperuser", "--noinput", "--username", "owner",
            "--email", "owner@example.com", DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )  # fmt: skip
        yield gaitu  # with an owner, so that the login page is not a redirect to the setup


def client(gaitu: Gaitu, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=gaitu.url, transport=transport, timeout=30)


def probe(gaitu: Gaitu, source: str = "127.0.0.1", **headers: str) -> dict:
    with client(gaitu, source) as browser:
        response = browser.get("/probe/peer", headers=headers)
    assert response.status_code == 200
    return response.json()


def login_page(gaitu: Gaitu, source: str = "127.0.0.1", **headers: str) -> httpx.Response:
    with client(gaitu, source) as browser:
        return browser.get("/login/", headers=headers)


# --- No trusted proxy ------------------------------------------------------------------------


def test_without_trusted_proxies_forwarded_headers_are_ignored(untrusting):
    seen = probe(untrusting, **FORWARDED)
    assert seen == {"address": "127.0.0.1", "scheme": "http", "secure": False}


def test_without_trusted_proxies_no_header_makes_a_request_secure(untrusting):
    response = login_page(untrusting, **FORWARDED)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{untrusting.port}/login/"
    assert "Strict-Transport-Security" not in response.headers


def test_serve_warns_that_https_needs_a_trusted_proxy(untrusting):
    assert "gaitu.W001" in untrusting.output()


# --- Behind a trusted proxy ------------------------------------------------------------------


def test_a_trusted_proxy_says_who_the_client_is_and_how_it_came(behind_proxy):
    seen = probe(behind_proxy, **FORWARDED)
    assert seen == {"address": "203.0.113.9", "scheme": "https", "secure": True}
    assert "gaitu.W001" not in behind_proxy.output()


def test_what_the_client_claimed_before_the_proxy_is_not_believed(behind_proxy):
    """The proxy adds the address it saw to the client's own X-Forwarded-For: the client is
    the last entry (the last that no trusted proxy added), whatever came before it."""
    seen = probe(behind_proxy, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert seen["address"] == "203.0.113.9"


def test_the_proxy_saying_https_makes_a_request_secure(behind_proxy):
    response = login_page(behind_proxy, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith(f"max-age={ONE_YEAR}")
    assert login_page(behind_proxy, **{"X-Forwarded-Proto": "http"}).status_code == 301
    assert login_page(behind_proxy).status_code == 301


def test_another_peer_is_not_believed(behind_proxy):
    """Only the configured proxy: a client on another address claims in vain."""
    seen = probe(behind_proxy, "127.0.0.2", **FORWARDED)
    assert seen == {"address": "127.0.0.2", "scheme": "http", "secure": False}
    assert login_page(behind_proxy, "127.0.0.2", **FORWARDED).status_code == 301
