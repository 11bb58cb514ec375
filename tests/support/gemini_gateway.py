"""A scripted gateway for the Gemini transport that also records where each request went.

Like tests/support/scripted_gateway.py (whose Scripted responses it plays: a real socket,
chunked bodies, pauses, cut connections), but Gemini's requests are told apart by their path
and query (the model, the method, ?alt=sse, ?key=), so those are kept with each request.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support.scripted_gateway import Scripted

REPLIES = Path(__file__).parent / "replies" / "gemini"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    json: dict


def recorded(name: str, **script) -> Scripted:
    """A recorded reply (tests/support/replies/gemini) played as it was sent."""
    body = (REPLIES / name).read_bytes()
    content_type = "text/event-stream" if name.endswith(".sse") else "application/json"
    return Scripted(content_type=content_type, pieces=[body], **script)


class GeminiGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *responses: Scripted):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses = list(responses)
        self.requests: list[Received] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "GeminiGateway":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: GeminiGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        where = urlsplit(self.path)
        self.server.requests.append(
            Received(
                method="POST",
                path=where.path,
                query=parse_qs(where.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                json=json.loads(body),
            )
        )
        index = min(len(self.server.requests), len(self.server.responses)) - 1
        script = self.server.responses[index]
        self.send_response(script.status)
        self.send_header("Content-Type", script.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in script.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for piece in script.pieces:
                if isinstance(piece, float):
                    time.sleep(piece)
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            if not script.drop:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, which is what some tests are about
        self.close_connection = True
