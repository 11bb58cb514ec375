"""The SSRF guard of editor.fetch, against real servers on 127.0.0.1 only.

DNS is always faked through fetch.resolve_host; an autouse guard fails any test that would open a
socket to a non-loopback address or make a real DNS lookup.
"""

import base64
import contextlib
import io
import ipaddress
import random
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from editor import fetch
from editor.fetch import FetchedImage, FetchError, fetch_image

LOCAL = {"127.0.0.1"}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3), noisy: bool = False) -> bytes:
    image = Image.new("RGB", size, (9, 8, 7))
    if noisy:  # incompressible pixels: a big IDAT
        image.frombytes(random.Random(7).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


PNG = image_bytes()
NOISY_PNG = image_bytes(size=(64, 64), noisy=True)  # a big IDAT: half the file cuts pixel data


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, with a tiny IDAT: a decompression bomb header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


# --- test servers ---------------------------------------------------------------------------

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Server"

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        self.server.seen.append((self.path, dict(self.headers)))
        route = self.server.routes.get(self.path)
        if route is None:
            self.reply(404, b"not found", "text/plain")
        else:
            route(self)

    def reply(self, status: int, body: bytes = b"", ctype: str = "image/png", **headers: str):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", headers.pop("length", str(len(body))))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: int = socket.AF_INET) -> None:
        self.address_family = family
        super().__init__(address, Handler)
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()  # ends the endless routes at teardown

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up in many tests
            super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@contextlib.contextmanager
def serve(server: Server) -> Iterator[Server]:
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(Server(("127.0.0.1", 0))) as running:
        yield running


def ok(body: bytes = PNG, ctype: str = "image/png") -> Route:
    return lambda h: h.reply(200, body, ctype)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: h.reply(status, ctype="text/plain", Location=location)


def chunked(pieces: Iterator[bytes], delay: float = 0.0) -> Route:
    def route(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for piece in pieces:
                if h.server.stopping.wait(delay):
                    return
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up, as it should

    return route


def endless(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


# --- guards ---------------------------------------------------------------------------------


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the internet or a real DNS server."""
    real_connect, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def create_connection(address, *args, **kwargs):
        if not (_is_ip(address[0]) and ipaddress.ip_address(address[0]).is_loopback):
            pytest.fail(f"connection attempt to {address}")
        return real_connect(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_ip(host):
            pytest.fail(f"real DNS lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(fetch, "RETRY_BACKOFF", 0.05)


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test on any attempt to open a connection at all."""

    def refuse(*args, **kwargs):
        pytest.fail("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    monkeypatch.setattr(fetch, "resolve_host", resolve)
    return asked


def fails(url: str, code: str = "download_failed", **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch_image(url, **kwargs)
    assert caught.value.code == code, caught.value.reason
    return caught.value


# --- success --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "header", "expected"),
    [
        ("PNG", "image/png", "image/png"),
        ("JPEG", "application/octet-stream", "image/jpeg"),
        ("WEBP", "image/png", "image/webp"),  # the header lies; the decoded format wins
        ("GIF", "", "image/gif"),
    ],
)
def test_allowed_local_server_serves_image(server: Server, fmt, header, expected) -> None:
    body = image_bytes(fmt, (7, 5))
    server.routes["/img"] = ok(body, header)
    image = fetch_image(server.url("/img"), allow_hosts=LOCAL)
    assert image == FetchedImage(data=body, content_type=expected, width=7, height=5)
    headers = server.seen[0][1]
    assert headers["User-Agent"] == "Gaitu/1.0"
    assert headers["Host"] == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize(
    "allow", ["127.0.0.1", {"127.0.0.1:8000"}, ["127.0.0.1."], ("X", "127.0.0.1")]
)
def test_allow_hosts_forms(server: Server, allow) -> None:
    server.routes["/a.png"] = ok()
    assert fetch_image(server.url("/a.png"), allow_hosts=allow).width == 4


# --- data URIs ------------------------------------------------------------------------------

B64 = base64.b64encode(PNG).decode()


def test_data_uri_with_line_breaks_and_no_padding() -> None:
    wrapped = "\n".join(B64.rstrip("=")[i : i + 60] for i in range(0, len(B64), 60))
    image = fetch_image(f"data:image/png;base64,{wrapped}")
    assert (image.data, image.content_type, image.width, image.height) == (PNG, "image/png", 4, 3)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("data:image/png;base64,iVBO!!!!", "bad base64 in data URI"),
        ("data:image/png;base64,iVBORw0KG", "bad base64 in data URI"),  # 4n+1 characters
        (f"data:text/html;base64,{B64}", "data URI is text/html, not an image"),
        (f"data:;base64,{B64}", "data URI is text/plain, not an image"),
        ("data:image/png,%89PNG", "data URI is not base64"),
        ("data:image/png;base64,PGh0bWw+", "not an image (image/png)"),
        ("data:image/png;base64," + base64.b64encode(NOISY_PNG[:3000]).decode(), "broken PNG"),
    ],
)
def test_bad_data_uris(uri: str, reason: str) -> None:
    assert fails(uri).reason.startswith(reason)


def test_data_uri_over_cap() -> None:
    assert fails(f"data:image/png;base64,{B64}", max_bytes=50).reason == "over 50 bytes"


@pytest.mark.parametrize(
    ("data", "max_pixels"),
    [
        (png_header_only(100_000, 100_000), 50_000_000),  # Pillow's own bomb limit trips first
        (png_header_only(10_000, 10_000), 50_000_000),
        (PNG, 11),
    ],
)
def test_too_many_pixels(data: bytes, max_pixels: int) -> None:
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    assert "image dimensions too large" in fails(uri, max_pixels=max_pixels).reason


# --- links refused before any connection ----------------------------------------------------


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


# --- pinning the checked address ------------------------------------------------------------


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
    try:
        v6 = Server(("::1", 0), socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback")
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


# --- redirects ------------------------------------------------------------------------------


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
    monkeypatch.setattr(fetch, "address_problem", lambda a: None if a == "127.0.0.1" else "bad")
    fake_dns(monkeypatch, {"public.test": ["127.0.0.1"], "inside.test": ["10.0.0.5"]})
    server.routes["/r"] = redirect("http://inside.test/x.png")
    assert fails(f"http://public.test:{server.port}/r", "link_blocked").reason == "bad"


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


# --- size, time and content -----------------------------------------------------------------


def test_content_length_over_cap_refused_before_reading(server: Server) -> None:
    def huge(h: Handler) -> None:
        h.reply(200, b"\x89PNG", length=str(10**12))
        h.server.stopping.wait(30)  # the rest never comes: we must not wait for it

    server.routes["/big"] = huge
    start = time.monotonic()
    assert fails(server.url("/big"), allow_hosts=LOCAL, max_bytes=1000).reason == "over 1000 bytes"
    assert time.monotonic() - start < 5


def test_default_cap_reason(server: Server) -> None:
    server.routes["/big"] = lambda h: h.reply(200, b"", length=str(41 * 2**20))
    assert fails(server.url("/big"), allow_hosts=LOCAL).reason == "over 40 MB"


@pytest.mark.parametrize("pieces", [iter([b"x" * 1000] * 10), endless(b"x" * 65536)])
def test_chunked_body_over_cap_stops(server: Server, pieces) -> None:
    server.routes["/stream"] = chunked(pieces)
    start = time.monotonic()
    reason = fails(server.url("/stream"), allow_hosts=LOCAL, max_bytes=5000).reason
    assert reason == "over 5000 bytes"
    assert time.monotonic() - start < 5


def test_slow_drip_body_hits_deadline(server: Server) -> None:
    server.routes["/drip"] = chunked(endless(b"x"), delay=0.2)
    start = time.monotonic()
    assert fails(server.url("/drip"), allow_hosts=LOCAL, deadline=1.0).reason == "deadline exceeded"
    elapsed = time.monotonic() - start
    assert 0.9 < elapsed < 1.0 + 2


def test_slow_drip_headers_hit_deadline(server: Server) -> None:
    # One header byte every 0.2 s: each read is quick, so only the watchdog ends this.
    def drip(h: Handler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not h.server.stopping.wait(0.2):
            try:
                h.wfile.write(b"a")
            except OSError:
                return

    server.routes["/drip"] = drip
    start = time.monotonic()
    assert fails(server.url("/drip"), allow_hosts=LOCAL, deadline=1.0).reason == "deadline exceeded"
    assert time.monotonic() - start < 1.0 + 2


def test_silent_server_hits_deadline(server: Server) -> None:
    server.routes["/mute"] = lambda h: h.server.stopping.wait(30) and None
    start = time.monotonic()
    assert fails(server.url("/mute"), allow_hosts=LOCAL, deadline=1.0).reason == "deadline exceeded"
    assert time.monotonic() - start < 1.0 + 2


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (ok(b"<!doctype html><title>Login</title>", "text/html; charset=utf-8"),
         "not an image (text/html)"),
        (ok(b"{}", ""), "not an image"),
        (ok(NOISY_PNG[: len(NOISY_PNG) // 2]), "broken PNG image"),
        (ok(png_header_only(100_000, 100_000)), "image dimensions too large"),
        (ok(image_bytes("BMP")), "not an image (image/png)"),  # a format we do not take
        (lambda h: h.reply(200, zlib.compress(PNG), Content_Encoding="deflate"),
         "unsupported Content-Encoding deflate"),
    ],
)  # fmt: skip
def test_bad_bodies(server: Server, route: Route, reason: str) -> None:
    server.routes["/x"] = route
    assert fails(server.url("/x"), allow_hosts=LOCAL).reason.startswith(reason)


@pytest.mark.parametrize(("status", "hits"), [(404, 1), (403, 1), (500, 2), (503, 2)])
def test_error_status(server: Server, status: int, hits: int) -> None:
    server.routes["/x"] = lambda h: h.reply(status, b"nope", "text/plain")
    assert fails(server.url("/x"), allow_hosts=LOCAL).reason == f"HTTP {status}"
    assert server.hits["/x"] == hits  # 4xx is final, 5xx is tried again


def test_server_error_then_success(server: Server) -> None:
    def flaky(h: Handler) -> None:
        if h.server.hits["/x"] == 1:
            h.reply(500, b"busy", "text/plain")
        else:
            h.reply(200, PNG)

    server.routes["/x"] = flaky
    assert fetch_image(server.url("/x"), allow_hosts=LOCAL).data == PNG
    assert server.hits["/x"] == 2


def test_connection_refused_is_a_download_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    reason = fails(f"http://127.0.0.1:{port}/x.png", allow_hosts=LOCAL).reason
    assert reason.startswith("connection failed (ConnectError")
