"""Slow, silent and too many clients cannot hold the web server (webapp/server.py), while
uploads, long responses and kept-alive connections go on as before.

Real `manage.py serve` processes on real sockets, with timeouts of 3 seconds so that the tests
are quick. Every wait for the server to close a connection has a bound far beyond them (it only
fails a server that holds the connection for good).
"""

import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.live import Gaitu, running_gaitu, wait_until
from tests.support.raw_http import (
    REQUEST,
    closed_by_server,
    connect,
    http_connection,
    response_on,
    still_open,
)

TIMEOUT = 3  # seconds: each of the header, body and keep-alive timeouts below
WITHIN = 60  # seconds: far beyond any of them
PROBES = {"DJANGO_SETTINGS_MODULE": "tests.support.probe_settings"}
STALLED_BODY = b"x" * 1000  # the first of a body that stops there
SLOW_HEADERS = b"GET /probe/peer HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


@pytest.fixture(scope="module")
def gaitu() -> Iterator[Gaitu]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-slow-") as folder,
        running_gaitu(
            Path(folder),
            **PROBES,
            GAITU_HEADER_TIMEOUT=str(TIMEOUT),
            GAITU_BODY_TIMEOUT=str(TIMEOUT),
            GAITU_KEEP_ALIVE_TIMEOUT=str(TIMEOUT),
        ) as gaitu,
    ):
        yield gaitu


def kept_alive(gaitu: Gaitu) -> socket.socket:
    """A connection that has had one request answered, and stays open for the next."""
    sock = connect(gaitu.port)
    sock.sendall(REQUEST)
    response = response_on(sock)
    assert response.status == 200
    response.read()
    assert still_open(sock)
    return sock


# --- Headers ---------------------------------------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed(gaitu):
    with connect(gaitu.port) as sock:
        assert closed_by_server(sock, WITHIN) == b""


def test_headers_sent_a_byte_a_second_are_cut_off(gaitu):
    """200 bytes at one a second would take 200 s; nothing is answered, the line is cut."""
    with connect(gaitu.port) as sock:
        assert closed_by_server(sock, WITHIN, dribble=SLOW_HEADERS) == b""


def test_the_next_request_on_a_kept_alive_connection_gets_no_more_time(gaitu):
    with kept_alive(gaitu) as sock:
        assert closed_by_server(sock, WITHIN, dribble=SLOW_HEADERS) == b""


def test_stray_bytes_between_requests_do_not_hold_a_connection(gaitu):
    """uvicorn stops its keep-alive clock at any byte, even a bare CRLF, and never starts it
    again: the header timeout takes over from the first byte."""
    with kept_alive(gaitu) as sock:
        sock.sendall(b"\r\n")
        assert closed_by_server(sock, WITHIN) == b""


def test_an_idle_kept_alive_connection_is_closed(gaitu):
    with kept_alive(gaitu) as sock:
        assert closed_by_server(sock, WITHIN) == b""


def test_headers_too_large_are_refused(gaitu):
    with connect(gaitu.port) as sock:
        sock.sendall(b"GET /probe/peer HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for number in range(200):
                sock.sendall(f"X-Filler-{number}: {'a' * 1000}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer may come before the last of them is sent
        answer = closed_by_server(sock, WITHIN)
    assert answer.startswith(b"HTTP/1.1 431 "), answer


# --- Bodies ----------------------------------------------------------------------------------


def test_a_body_that_stops_coming_is_cut_off(gaitu):
    with connect(gaitu.port) as sock:
        sock.sendall(
            b"POST /probe/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
            + STALLED_BODY
        )
        assert closed_by_server(sock, WITHIN) == b""


def test_a_20_mb_upload_that_takes_longer_than_the_body_timeout_arrives_whole(gaitu):
    """The body timeout is a stall: a body that keeps coming may take as long as it needs."""
    chunk, chunks = 512 * 1024, 40
    with connect(gaitu.port) as sock:
        sock.sendall(
            b"POST /probe/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/octet-stream\r\n"
            + f"Content-Length: {chunk * chunks}\r\n\r\n".encode()
        )
        started = time.monotonic()
        for _ in range(chunks):
            sock.sendall(b"p" * chunk)
            time.sleep(0.1)
        assert time.monotonic() - started > TIMEOUT  # longer in all than the body timeout
        response = response_on(sock, "POST")
        assert response.status == 200
        assert response.read() == b'{"received": 20971520}'


# --- Long responses and kept-alive connections ----------------------------------------------


def test_long_responses_on_one_kept_alive_connection_outlive_every_timeout(gaitu):
    """A response as long as a live stream, then more on the same connection, as htmx asks
    for cards: no timeout counts the time the server spends answering."""
    connection = http_connection(gaitu.port)
    try:
        connection.request("GET", f"/probe/stream?seconds={TIMEOUT * 2}&every=0.25")
        response = connection.getresponse()
        assert response.status == 200
        assert response.read().endswith(b"end\n")
        sock = connection.sock
        for _ in range(3):
            connection.request("GET", "/probe/stream?seconds=1&every=0.25")
            response = connection.getresponse()
            assert response.read().endswith(b"end\n")
            assert connection.sock is sock  # the same connection, kept alive all along
    finally:
        connection.close()


def test_ctrl_c_stops_the_server_while_slow_clients_hold_connections(tmp_path):
    """running_gaitu's end asserts that `serve` stopped by itself, with status 0."""
    with ExitStack() as held, running_gaitu(tmp_path, **PROBES) as gaitu:
        slow = held.enter_context(connect(gaitu.port))
        slow.sendall(SLOW_HEADERS[:20])
        stalled = held.enter_context(connect(gaitu.port))
        stalled.sendall(
            b"POST /probe/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nx"
        )
        streaming = http_connection(gaitu.port)
        held.callback(streaming.close)
        streaming.request("GET", "/probe/stream?seconds=120")
        assert streaming.getresponse().readline() == b"line 0\n"


# --- Connections per address -----------------------------------------------------------------

CAP = 5
PROXY = "127.0.0.2"  # a trusted proxy in the capped Gaitu below


@pytest.fixture(scope="module")
def capped() -> Iterator[Gaitu]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-capped-") as folder,
        running_gaitu(
            Path(folder),
            **PROBES,
            GAITU_MAX_CONNECTIONS_PER_ADDRESS=str(CAP),
            GAITU_TRUSTED_PROXIES=PROXY,
        ) as gaitu,
    ):
        yield gaitu


def open_stream(gaitu: Gaitu, source: str = "127.0.0.1"):
    """A connection from `source` held by a long response, as a live update stream holds one."""
    connection = http_connection(gaitu.port, source)
    connection.request("GET", "/probe/stream?seconds=120&every=0.2")
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline() == b"line 0\n"
    return connection, response


def answered(gaitu: Gaitu, source: str = "127.0.0.1") -> int:
    """The status of a request on a new connection from `source`."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.get(f"{gaitu.url}/probe/peer").status_code


def test_the_connection_over_the_cap_is_refused_and_the_others_go_on(capped):
    held = [open_stream(capped) for _ in range(CAP)]
    try:
        with connect(capped.port) as one_too_many:
            one_too_many.sendall(REQUEST)
            answer = closed_by_server(one_too_many, WITHIN)
        assert answer.startswith(b"HTTP/1.1 503 "), answer
        assert answer.endswith(b"Too many connections from your address at once.\n")
        # The ones it holds are untouched: their streams go on.
        for _connection, response in held:
            assert response.readline().startswith(b"line ")
        # Another address is not affected.
        assert answered(capped, "127.0.0.3") == 200
        # Once one of them closes, the address may connect again.
        connection, _response = held.pop()
        connection.close()
        wait_until(lambda: answered(capped) == 200, what="a connection after one closed")
    finally:
        for connection, _response in held:
            connection.close()
    assert "127.0.0.1 holds 5 connections" in capped.output()


def test_a_trusted_proxy_is_not_counted(capped):
    """Its connections carry everyone's requests: the proxy limits each client itself."""
    held = [open_stream(capped, PROXY) for _ in range(CAP + 2)]
    try:
        assert answered(capped, PROXY) == 200
    finally:
        for connection, _response in held:
            connection.close()
