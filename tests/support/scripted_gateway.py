"""A local HTTP server that answers each request with the next scripted response.

It speaks through a real socket, so the client's streaming, timeouts and error handling are
exercised as they are against a real gateway: chunked bodies, pauses, cut connections.

Each request is kept in `requests`, in order, as a dict: "method", "path", "query" (the raw
query string), "headers", "body" (the raw bytes) and "json" (the parsed body, or None when it
is not JSON: a multipart form, say; form_parts() reads those); a subclass may keep another
shape by overriding keep().
"""

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Scripted:
    status: int = 200
    content_type: str = "text/event-stream"
    pieces: list[bytes | float] = field(default_factory=list)  # bytes to send, or a pause
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # cut the connection instead of ending the body
    wait: float = 0.0  # seconds of silence before the status line (a gateway still working)
    hang_up: bool = False  # close the connection without any reply at all


def sse(*events: dict | str, crlf: bool = False) -> list[bytes]:
    newline = "\r\n" if crlf else "\n"
    out = []
    for event in events:
        line = event if isinstance(event, str) else f"data: {json.dumps(event)}"
        out.append((line + newline + newline).encode())
    return out


def delta(content: str = "", **extra: object) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": content, **extra}}]}


def named_sse(*events: tuple[str, dict | str], crlf: bool = False) -> list[bytes]:
    """Events with an `event:` line before the data, as OpenAI's images API sends them."""
    newline = "\r\n" if crlf else "\n"
    out = []
    for name, event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        out.append(f"event: {name}{newline}data: {data}{newline}{newline}".encode())
    return out


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()


def form_parts(request: dict) -> list[FormPart]:
    """The parts of a multipart/form-data request the server received, in order."""
    content_type = request["headers"].get("Content-Type", "")
    assert content_type.startswith("multipart/form-data"), content_type
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request["body"]
    )
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append(
            FormPart(
                str(name),
                part.get_filename(),
                part.get_content_type() if part.get("Content-Type") else "",
                payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


class ScriptedGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *responses: Scripted):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses = list(responses)
        self.requests: list[dict] = []
        # A short poll, so that leaving the `with` block (shutdown) takes a moment, not 0.5 s.
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "ScriptedGateway":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()

    def keep(self, request: dict) -> object:
        """What `requests` keeps of a request: the dict itself (a subclass may keep another)."""
        return request


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedGateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self._read_body()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        target = urlsplit(self.path)
        self.server.requests.append(
            self.server.keep(
                {
                    "method": self.command,
                    "path": target.path,
                    "query": target.query,
                    "headers": dict(self.headers),
                    "body": body,
                    "json": parsed,
                }
            )
        )
        index = min(len(self.server.requests), len(self.server.responses)) - 1
        script = self.server.responses[index]
        if script.wait:
            time.sleep(script.wait)
        if script.hang_up:
            self.close_connection = True
            return
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

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                body += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
            while self.rfile.readline().strip():
                pass  # trailers, up to the blank line
            return bytes(body)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))
