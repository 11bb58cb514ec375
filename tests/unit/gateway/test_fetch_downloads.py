"""Downloads from an allowed server: what a response becomes.

An image of a format Gaitu takes is returned whatever the Content-Type says; HTML, broken
pictures, too many pixels and unknown encodings are refused; a 4xx status is final while a 5xx
is tried again; a refused connection is a download failure.
"""

import socket
import zlib

import pytest

from gateway.fetch import FetchedImage, fetch_image
from tests.support.fetch_servers import (
    LOCAL,
    NOISY_JPEG,
    NOISY_PNG,
    PNG,
    Handler,
    Route,
    Server,
    fails,
    image_bytes,
    ok,
    png_header_only,
)
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import server as server

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


# --- content and status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (ok(b"<!doctype html><title>Login</title>", "text/html; charset=utf-8"),
         "not an image (text/html)"),
        (ok(b"{}", ""), "not an image"),
        (ok(NOISY_PNG[: len(NOISY_PNG) // 2]), "broken PNG image"),
        (ok(NOISY_JPEG[: len(NOISY_JPEG) // 2]), "broken JPEG image"),
        (ok(NOISY_JPEG[: len(NOISY_JPEG) - 200]), "broken JPEG image"),  # only its end missing
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
