"""Links refused before any connection: schemes, credentials, local names and addresses.

Every numeric spelling of a private address is caught without asking DNS; a name is refused when
any address it resolves to is not public.
"""

import pytest

from gateway import fetch
from tests.support.fetch_servers import fails, fake_dns
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import no_connection as no_connection


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/x.png", "address 127.0.0.1 is loopback"),
        ("http://localhost/x.png", "host localhost is local"),
        ("http://LocalHost.:8080/x.png", "host localhost is local"),
        ("http://img.localhost/x.png", "host img.localhost is local"),
        ("http://localhost.localdomain/x.png", "host localhost.localdomain is local"),
        ("http://[::1]/x.png", "address ::1 is loopback"),
        ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local"),
        ("http://10.1.2.3/x.png", "address 10.1.2.3 is private"),
        ("http://172.16.0.1/x.png", "address 172.16.0.1 is private"),
        ("http://192.168.1.1/x.png", "address 192.168.1.1 is private"),
        ("http://100.64.0.1/x.png", "address 100.64.0.1 is shared (CGNAT)"),
        ("http://0.0.0.0/x.png", "address 0.0.0.0 is unspecified"),
        ("http://[::]/x.png", "address :: is unspecified"),
        ("http://224.0.0.1/x.png", "address 224.0.0.1 is multicast"),
        ("http://255.255.255.255/x.png", "address 255.255.255.255 is"),
        ("http://[fe80::1]/x.png", "address fe80::1 is link-local"),
        ("http://[fc00::1]/x.png", "address fc00::1 is private"),
        ("http://[fec0::1]/x.png", "address fec0::1 is site-local"),
        ("http://[::ffff:127.0.0.1]/x.png", "address 127.0.0.1 is loopback"),
        ("http://[::ffff:a00:1]/x.png", "address 10.0.0.1 is private"),
        ("http://[64:ff9b::a9fe:a9fe]/x.png", "address 169.254.169.254 is link-local"),
        ("http://[2002:a00:1::]/x.png", "address 10.0.0.1 is private"),
        ("http://2130706433/x.png", "address 127.0.0.1 is loopback"),
        ("http://0x7f.1/x.png", "address 127.0.0.1 is loopback"),
        ("http://127.1/x.png", "address 127.0.0.1 is loopback"),
        ("http://0x7f000001/x.png", "address 127.0.0.1 is loopback"),
        ("http://0177.0.0.1/x.png", "invalid URL"),  # httpx refuses it; inet_aton would say 127
        ("http://017700000001/x.png", "address 127.0.0.1 is loopback"),
        ("http://192.0.2.7/x.png", "address 192.0.2.7 is private"),  # documentation range
        ("file:///etc/passwd", "scheme 'file' not allowed"),
        ("ftp://example.com/x.png", "scheme 'ftp' not allowed"),
        ("gopher://example.com/", "scheme 'gopher' not allowed"),
        ("javascript:alert(1)", "scheme 'javascript' not allowed"),
        ("//example.com/x.png", "scheme 'none' not allowed"),
        ("", "scheme 'none' not allowed"),
        ("http://user:pass@example.com/x.png", "credentials in URL"),
        ("http://user@example.com/x.png", "credentials in URL"),
        ("http:///x.png", "no host in URL"),
        ("http://example.com:99999/x.png", "invalid port 99999"),
    ],
)
def test_blocked_links(url: str, reason: str, no_connection, monkeypatch) -> None:
    asked = fake_dns(monkeypatch, {})
    error = fails(url, "link_blocked")
    assert error.reason.startswith(reason)
    assert asked == []  # numeric forms are never handed to DNS


@pytest.mark.parametrize(
    "answer",
    [["10.0.0.1"], ["93.184.216.34", "10.0.0.1"], ["::1"], ["169.254.169.254"]],
)
def test_name_resolving_to_private_address(answer, no_connection, monkeypatch) -> None:
    fake_dns(monkeypatch, {"cdn.example": answer})
    error = fails("https://cdn.example/x.png", "link_blocked")
    assert error.reason.startswith(f"address {answer[-1]} is")


def test_unresolvable_name(no_connection, monkeypatch) -> None:
    fake_dns(monkeypatch, {})
    assert fails("http://nowhere.example/x.png").reason == "cannot resolve nowhere.example"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::5db8:d822", True),
        ("fe80::1%eth0", False),
        ("198.18.0.1", False),
        ("240.0.0.1", False),
        ("2001:db8::1", False),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo around 10.0.0.1
    ],
)
def test_address_problem(address: str, public: bool) -> None:
    assert (fetch.address_problem(address) is None) is public
