"""What every endpoint of the demo gateway answers with: JSON, bytes, and event streams.

An Exchange is one request and the means to answer it; the endpoints (chat.py, images_api.py,
gemini_api.py) take one and never touch the socket themselves. The misbehaviours shared by
all three live here: a body cut halfway ([demo:drop]) and headers followed by silence
([demo:stall]).
"""

import json
import secrets
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit


class ResultStore:
    """The last results, in memory: Gaitu downloads each one right after it is made.

    Enough of them for every edit a worker keeps in flight (256 threads by default) to find
    its result when all their answers come at once, within a bound on the bytes held."""

    def __init__(self, capacity: int = 1024, max_bytes: int = 256 * 2**20):
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = data
            self._bytes += len(data)
            while len(self._items) > 1 and (
                len(self._items) > self.capacity or self._bytes > self.max_bytes
            ):
                self._bytes -= len(self._items.popitem(last=False)[1])
        return key

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.get(key)


class Exchange:
    """One request to the demo gateway: what was sent, and the ways to answer it."""

    def __init__(
        self,
        handler: BaseHTTPRequestHandler,
        body: bytes,
        *,
        results: ResultStore,
        base_url: str,
        latency: float,
    ):
        self.handler = handler
        self.body = body
        self.results = results
        self.base_url = base_url
        self.latency = latency  # the gateway's own, unless the instruction says otherwise
        self.received = time.monotonic()  # the gateway's time starts: reading, editing, answering
        parts = urlsplit(handler.path)
        self.path = parts.path
        self.query = {name: values[-1] for name, values in parse_qs(parts.query).items()}

    def header(self, name: str) -> str:
        return str(self.handler.headers.get(name, ""))

    def remaining(self, latency: float) -> float:
        """What is left of `latency` seconds after the work done since the request came in."""
        return max(0.0, latency - (time.monotonic() - self.received))

    def send_json(self, status: int, payload: object) -> None:
        self.send_bytes(status, _json(payload).encode(), "application/json")

    def send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self._headers(status, content_type, {"Content-Length": str(len(body))})
        self.handler.wfile.write(body)

    def send_slowly(
        self, status: int, payload: object, latency: float, *, drop: bool, stall: bool
    ) -> None:
        """A whole JSON answer after `latency` seconds; with `stall` its headers come first and
        the body only then; with `drop` half the body comes and the connection is cut."""
        body = _json(payload).encode()
        if not (drop or stall):
            time.sleep(latency)
            self.send_bytes(status, body, "application/json")
            return
        self._headers(status, "application/json", {"Content-Length": str(len(body))})
        self.handler.wfile.flush()
        time.sleep(latency)
        if drop:
            self.cut(body[: len(body) // 2])
            return
        self.handler.wfile.write(body)

    def start_stream(self, content_type: str = "text/event-stream; charset=utf-8") -> None:
        self._headers(
            200, content_type, {"Cache-Control": "no-cache", "Transfer-Encoding": "chunked"}
        )

    def chunk(self, text: str) -> None:
        """One chunk of a chunked body; the empty one ends it."""
        data = text.encode()
        self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.handler.wfile.flush()

    def event(self, payload: object, name: str = "", line_end: str = "\n") -> None:
        """One server-sent event, `data: {json}`, named when `name` is given."""
        named = f"event: {name}{line_end}" if name else ""
        self.chunk(f"{named}data: {_json(payload)}{line_end}{line_end}")

    def end_stream(self) -> None:
        self.chunk("")

    def cut(self, partial_body: bytes = b"") -> None:
        """Send what there is and hang up: the body never ends, the client sees a dropped
        connection."""
        if partial_body:
            self.handler.wfile.write(partial_body)
        self.handler.wfile.flush()
        self.handler.close_connection = True

    def send_html_error(self, status: int) -> None:
        """What a proxy in front of a gateway answers when the gateway behind it fails."""
        page = f"<html><head><title>{status} Bad Gateway</title></head><body>nginx</body></html>"
        self.send_bytes(status, page.encode(), "text/html")

    def _headers(self, status: int, content_type: str, more: dict[str, str]) -> None:
        self.handler.send_response(status)
        self.handler.send_header("Content-Type", content_type)
        for name, value in more.items():
            self.handler.send_header(name, value)
        self.handler.end_headers()


def _json(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)
