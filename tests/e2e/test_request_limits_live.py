"""A running Gaitu answers a body over its limit with 413 at once, over a real socket: the
client sends the headers and a few bytes, never the rest, and still gets its answer, so the
server did not wait for the body (which never comes) before answering."""

import contextlib
import json
import socket

import pytest

from tests.support.factories import image_bytes
from tests.support.live import split_gaitu

# 1 picture of 1 MB per edit: the body limit is 2 MB (a picture and the form's margin).
LIMITS = {"GAITU_UPLOAD_MAX_MB": "1", "GAITU_MAX_INPUTS": "1", "GAITU_BATCH_MAX": "1"}
LIMIT = 2 * 2**20
# Long enough for any machine; never reached by a server that answers as it should.
SOCKET_TIMEOUT = 60


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with split_gaitu(tmp_path_factory.mktemp("limits"), with_worker=False, **LIMITS) as gaitu:
        yield gaitu


def answer_to(port: int, head: bytes, *pieces: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send the request's head and these pieces of its body (never all of it), then read the
    answer to the end: the server closes the connection after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(head)
        for piece in pieces:
            sock.sendall(piece)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    raw_head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def request_head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_length_over_the_limit_is_answered_without_the_body(live):
    head = request_head(
        "/api/v1/edits",
        Content_Type="multipart/form-data; boundary=x",
        Content_Length=str(600 * 2**20),
    )
    status, headers, body = answer_to(live.port, head, b"--x\r\nContent-Disposition: form")
    assert (status, headers["connection"]) == (413, "close")
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_client_that_waits_for_100_continue_gets_the_413_instead(live):
    head = request_head(
        "/api/v1/edits",
        Content_Type="multipart/form-data; boundary=x",
        Content_Length=str(600 * 2**20),
        Expect="100-continue",
    )
    status, _headers, body = answer_to(live.port, head)  # not a byte of the body
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_chunked_body_is_read_only_up_to_the_limit(live):
    head = request_head(
        "/api/v1/edits",
        Content_Type="multipart/form-data; boundary=x",
        Transfer_Encoding="chunked",
    )
    piece = b"x" * 65536
    # One byte past the limit, and then no last chunk: the body would never end. (No more
    # than that is sent: bytes left unread when the server closes would make it reset the
    # connection, which may destroy the answer before it is read.)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * (LIMIT // len(piece))
    status, headers, body = answer_to(live.port, head, *chunks, b"1\r\nx\r\n")
    assert (status, headers["connection"]) == (413, "close")
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_page_says_it_in_html(live):
    head = request_head(
        "/login/",
        Content_Type="application/x-www-form-urlencoded",
        Content_Length=str(600 * 2**20),
        Accept_Language="zh-hans",
    )
    status, headers, body = answer_to(live.port, head, b"username=")
    assert status == 413 and headers["content-type"].startswith("text/html")
    assert "<html" in body.decode()


def test_a_body_within_the_limit_is_read_as_ever(live):
    client = live.api()
    photo = image_bytes((120, 80))
    response = client.post(
        "/api/v1/edits",
        data={"instruction": "blur"},
        files={"image": ("photo.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 202, response.text
    picture = image_bytes((900, 900), quality=100) + b"\0" * 2**20  # over 1 MB, under 2 MB
    too_big = client.post(
        "/api/v1/edits",
        data={"instruction": "blur"},
        files={"image": ("big.jpg", picture, "image/jpeg")},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "file_too_large"


def test_a_client_still_sending_reads_the_413_before_the_connection_closes(live):
    """A browser sends its whole body whatever comes back: the answer must reach it, not a
    reset (closing a socket with unread bytes makes the kernel send one, which throws away
    the answer waiting in the client's buffer)."""
    head = request_head(
        "/api/v1/edits",
        Content_Type="multipart/form-data; boundary=x",
        Content_Length=str(64 * 2**20),
    )
    piece = b"\0" * 2**16
    with socket.create_connection(("127.0.0.1", live.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        received, sent = b"", 0
        while not received.endswith(b"}") and sent < 64 * 2**20:
            try:
                sent += sock.send(piece)
            except BlockingIOError:
                pass  # the server stopped reading for now: look for its answer
            except (BrokenPipeError, ConnectionResetError):
                break
            with contextlib.suppress(BlockingIOError):  # nothing yet: send on
                received += sock.recv(65536)
        sock.setblocking(True)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    assert received.startswith(b"HTTP/1.1 413 "), received[:200]
    assert b'"request_too_large"' in received
