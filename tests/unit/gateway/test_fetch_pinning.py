"""The connection goes to the very address that was checked, over IPv4, IPv6 and TLS.

The name is resolved once; httpx is pinned to the checked IP while the Host header, SNI and
certificate check keep the name from the link.
"""

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from gateway import fetch
from gateway.fetch import fetch_image
from tests.support.fetch_servers import PNG, Server, fails, fake_dns, ok, serve
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import server as server


def test_connects_to_checked_ip_with_original_host_header(server: Server, monkeypatch) -> None:
    # Pretend 127.0.0.1 is public for this test only, then prove the request went to the
    # address the check saw: httpx never resolves the name again (that lookup would fail).
    monkeypatch.setattr(fetch, "address_problem", lambda address: None)
    asked = fake_dns(monkeypatch, {"img.test": ["127.0.0.1"]})
    server.routes["/a.png"] = ok()
    image = fetch_image(f"http://IMG.test:{server.port}/a.png")
    assert image.data == PNG
    assert asked == ["img.test"]
    assert server.seen[0][1]["Host"] == f"img.test:{server.port}"


def test_pins_ipv6_address(monkeypatch) -> None:
    # Every machine of this project's kind, CI's included, has the IPv6 loopback.
    v6 = Server(("::1", 0), socket.AF_INET6)
    monkeypatch.setattr(fetch, "address_problem", lambda address: None)
    fake_dns(monkeypatch, {"v6.test": ["::1"]})
    with serve(v6) as srv:
        srv.routes["/a.png"] = ok()
        assert fetch_image(f"http://v6.test:{srv.port}/a.png").data == PNG
        assert srv.seen[0][1]["Host"] == f"v6.test:{srv.port}"


def test_retry_moves_to_next_checked_address(server: Server, monkeypatch) -> None:
    # Nothing listens on 127.0.0.2, so the first attempt is refused and the retry takes the
    # next address of the same checked answer.
    monkeypatch.setattr(fetch, "address_problem", lambda address: None)
    fake_dns(monkeypatch, {"two.test": ["127.0.0.2", "127.0.0.1"]})
    tried: list[str] = []
    guarded = socket.create_connection
    monkeypatch.setattr(
        socket, "create_connection", lambda a, *r, **k: tried.append(a[0]) or guarded(a, *r, **k)
    )
    server.routes["/a.png"] = ok()
    assert fetch_image(f"http://two.test:{server.port}/a.png").data == PNG
    assert tried == ["127.0.0.2", "127.0.0.1"]


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a throwaway CA and certificates for img.test and other.test."""
    assert shutil.which("openssl"), (
        "the TLS tests need the openssl command (apt-get install openssl)"
    )
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Gaitu test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    for name in ("img.test", "other.test"):
        (d / f"{name}.ext").write_text(
            f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
            "-out", f"{name}.pem")  # fmt: skip
    return d


@pytest.mark.parametrize(("cert_name", "succeeds"), [("img.test", True), ("other.test", False)])
def test_https_pinned_ip_uses_hostname_for_sni_and_certificate(
    tls: Path, monkeypatch, cert_name: str, succeeds: bool
) -> None:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tls / f"{cert_name}.pem", tls / f"{cert_name}.key")
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)
    httpsd = Server(("127.0.0.1", 0))
    httpsd.socket = server_ctx.wrap_socket(httpsd.socket, server_side=True)
    monkeypatch.setattr(fetch, "TLS_VERIFY", ssl.create_default_context(cafile=tls / "ca.pem"))
    monkeypatch.setattr(fetch, "address_problem", lambda address: None)
    fake_dns(monkeypatch, {"img.test": ["127.0.0.1"]})
    with serve(httpsd) as srv:
        srv.routes["/a.png"] = ok()
        url = f"https://img.test:{srv.port}/a.png"
        if succeeds:
            assert fetch_image(url).data == PNG
            assert srv.seen[0][1]["Host"] == f"img.test:{srv.port}"
        else:  # a certificate for another name is refused although the IP is the same
            assert "CERTIFICATE_VERIFY_FAILED" in fails(url, attempts=1).reason
        assert sni[0] == "img.test"
