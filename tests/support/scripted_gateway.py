"""A local HTTP server that answers each request with the next scripted response.

It speaks through a real socket, so the client's streaming, timeouts and error handling are
exercised as they are against a real gateway: chunked bodies, pauses, cut connections.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    status: int = 200
    content_type: str = "text/event-stream"
    pieces: list[bytes | float] = field(default_factory=list)  # bytes to send, or a pause
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # cut the connection instead of ending the body


def sse(*events: dict | str, crlf: bool = False) -> list[bytes]:
    newline = "\r\n" if crlf else "\n"
    out = []
    for event in events:
        line = event if isinstance(event, str) else f"data: {json.dumps(event)}"
        out.append((line + newline + newline).encode())
    return out


def delta(content: str = "", **extra) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": content, **extra}}]}


class ScriptedGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *responses: Scripted):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses = list(responses)
        self.requests: list[dict] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "ScriptedGateway":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append({"headers": dict(self.headers), "json": json.loads(body)})
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
