"""A webhook receiver on 127.0.0.1, in a thread: it checks each delivery's signature as the
README tells receivers to, and answers with the statuses a test scripts."""

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300  # seconds: an older signature is refused (a replayed request)


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """The README's check: the HMAC of "<t>.<body>" matches, and t is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, received = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit():
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    recent = abs((time.time() if now is None else now) - int(timestamp)) <= TOLERANCE
    return recent and hmac.compare_digest(expected, received)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    url: str = ""
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once used up
    received: list[Received] = field(default_factory=list)
    redirect_to: str = ""  # when set, every request is answered 302 to it


@contextlib.contextmanager
def serve(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            verified = verify(receiver.secret, self.headers.get("Gaitu-Signature", ""), body)
            receiver.received.append(Received(dict(self.headers.items()), body, verified))
            if receiver.redirect_to:
                self.send_response(302)
                self.send_header("Location", receiver.redirect_to)
            else:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status if verified else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
