"""Size and time limits of a download: too large, too slow, or silent servers are cut off."""

import time

import pytest

from tests.support.fetch_servers import LOCAL, Handler, Server, chunked, endless, fails
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import server as server


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
