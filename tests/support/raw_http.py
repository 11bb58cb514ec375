"""HTTP/1.1 by hand over real sockets, to be the clients a browser never is: slow, silent, many."""

import http.client
import select
import socket
import time

REQUEST = b"GET /probe/peer HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def connect(port: int, source: str = "127.0.0.1", timeout: float = 30) -> socket.socket:
    """A connection to Gaitu on loopback from this source address (any 127.x.y.z is ours)."""
    return socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
    )


def http_connection(port: int, source: str = "127.0.0.1") -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))


def response_on(sock: socket.socket, method: str = "GET") -> http.client.HTTPResponse:
    """The next response on this connection (read it with .read() before the next request)."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response


def closed_by_server(
    sock: socket.socket, within: float, dribble: bytes = b"", every: float = 1.0
) -> bytes:
    """Wait for the server to close this connection, sending `dribble` a byte every `every`
    seconds meanwhile; return what the server sent before it closed.

    Fails if the connection is still open after `within` seconds (give `dribble` enough bytes
    to last longer than that, so that the server cannot be waiting for the last of them).
    """
    deadline = time.monotonic() + within
    received = b""
    pending = dribble
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk
        elif pending:
            try:
                sock.sendall(pending[:1])
            except (BrokenPipeError, ConnectionResetError):
                return received
            pending = pending[1:]
    raise AssertionError(f"the server still held the connection after {within:g} s")


def still_open(sock: socket.socket) -> bool:
    """Whether the server has not closed this connection (nothing to read, no end of file)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except ConnectionResetError:
        return False
