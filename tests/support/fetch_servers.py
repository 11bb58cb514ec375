"""Test servers, sample images and guards shared by the SSRF tests of gateway.fetch.

The servers listen on 127.0.0.1 only. DNS is always faked through fetch.resolve_host; the autouse
guard loopback_only fails any test that would open a socket to a non-loopback address or make a
real DNS lookup.

A fixture reaches a test module only when imported into it, so every test_fetch_*.py imports
loopback_only, and server or no_connection where its tests ask for them, each under its own
name (`from tests.support.fetch_servers import server as server`): the redundant alias marks a
deliberate re-export, so the import is neither unused nor redefined by the test arguments of
that name.
"""

import contextlib
import io
import ipaddress
import random
import socket
import struct
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

from gateway import fetch
from gateway.fetch import FetchError, fetch_image

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
# Big enough that the download's proof decodes it at 1/8 scale (gateway/fetch.py).
NOISY_JPEG = image_bytes("JPEG", size=(640, 480), noisy=True)


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
