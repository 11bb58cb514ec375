"""The built-in demo gateway: a real HTTP server on loopback that speaks all three APIs Gaitu does.

- `POST /v1/chat/completions` (gateway/demo/chat.py), OpenAI-compatible, answering in the
  reseller transcript style (streamed or not) with its results as links, which Gaitu downloads
  like any other. Any bearer key is taken.
- `POST /v1/images/edits` (multipart) and `/v1/images/generations` (JSON)
  (gateway/demo/images_api.py), as gpt-image-1 answers: b64_json pictures, or links with
  response_format=url; streamed as `image_edit.*` / `image_generation.*` events. Any bearer
  key is taken; none is refused with OpenAI's 401.
- `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`
  (gateway/demo/gemini_api.py), as Gemini answers: inlineData PNGs with a text part. The key
  comes as `x-goog-api-key` or `?key=`; none is refused with Google's 403.
- `GET /v1/models` and `GET /v1beta/models` list the models the demo was given; every endpoint
  answers any model named.

Each edits the picture with Pillow according to simple words in the instruction
(gateway/demo/effects.py), or with no picture draws one from the words
(gateway/demo/drawing.py). Sizes and the number of results are honoured however they are sent
(gateway/demo/asked.py): a generation is 1024x1024 unless asked otherwise, an edit keeps its
picture's size unless a size is asked. A mask is honoured on every transport
(gateway/demo/making.py): the images API's own (transparent = change), or for chat and Gemini
the last picture when the instruction carries gateway.masks.MASK_SENTENCE (white = change); the
effect lands only in that area and everything else keeps the original's pixels exactly (for a
result of the picture's own size, which a masked edit answers as PNG).

Directives in the instruction make it misbehave on purpose, for tests and for trying things
out, each in the manner of the API asked:

- `[demo:fail=429]` (or 401, 402, 500, 502, 503, …): that HTTP status. Chat and the images
  API answer as a new-api relay does (its JSON for 402, 429, 503; a proxy's HTML page for the
  rest), 401 as OpenAI does, quoting the key back; Gemini in Google's envelope (502: a proxy's
  page).
- `[demo:refuse]`: chat and Gemini answer words alone; the images API a 400
  content_policy_violation.
- `[demo:moderation]`: chat's `input_moderation` transcript; the images API's 400
  moderation_blocked; Gemini's finishReason IMAGE_SAFETY (`[demo:moderation=prompt]`:
  promptFeedback.blockReason, no candidate). `[demo:filter]`: chat's finish_reason
  content_filter, Gemini's finishReason SAFETY, the images API's moderation_blocked.
- `[demo:error]`: an error inside the answer (chat's in-band error; an `error` event in a
  stream, or a 500 when not streamed, on the other two).
- `[demo:drop]`: the connection cut mid-answer (chat: streams only; the others: before the
  first picture is complete, or halfway through a whole body).
- `[demo:stall]`: silence after the headers (chat: streams only).
- `[demo:badlink]` (a result link that is gone) and `[demo:private]` (a result link into a
  private network): chat and the images API's url answers.
- `[demo:family=f1..f5]` picks chat's reply family; `[demo:n=2]` makes two results on every
  transport and `[demo:latency=S]` overrides how long the answer takes.
"""

import logging
import re
import socket
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

from . import chat, gemini_api, images_api
from .wire import Exchange, ResultStore

logger = logging.getLogger(__name__)

GEMINI_PATH = re.compile(r"/v1beta/models/([\w.-]+):(generateContent|streamGenerateContent)")
RESULT_PATH = re.compile(r"/(?:cdn|cdn/download|raw)/([\w-]+)\.(?:jpg|png|webp)")
CONTENT_TYPES = {b"\x89PNG": "image/png", b"RIFF": "image/webp"}


class DemoHandler(BaseHTTPRequestHandler):
    server: "DemoGateway"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("demo gateway: " + format, *args)

    def do_GET(self) -> None:
        exchange = self._exchange(b"")
        path = exchange.path.rstrip("/")
        if path == "/v1/models":
            models = [{"id": name, "object": "model"} for name in self.server.models]
            exchange.send_json(200, {"object": "list", "data": models})
            return
        if path == "/v1beta/models":
            if not gemini_api.refuse_unkeyed(exchange):
                gemini_api.list_models(exchange, self.server.models)
            return
        match = RESULT_PATH.fullmatch(exchange.path)
        data = self.server.results.get(match.group(1)) if match else None
        if data is None:
            exchange.send_json(404, {"error": {"message": "not found"}})
            return
        exchange.send_bytes(200, data, CONTENT_TYPES.get(data[:4], "image/jpeg"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        exchange = self._exchange(self.rfile.read(length))
        path = exchange.path.rstrip("/")
        if path == "/v1/chat/completions":
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("Bearer "):
                exchange.send_json(401, {"error": {"message": "missing bearer token"}})
                return
            chat.answer(exchange, authorization.removeprefix("Bearer "))
        elif path in ("/v1/images/edits", "/v1/images/generations"):
            images_api.answer(exchange, editing=path.endswith("edits"))
        elif match := GEMINI_PATH.fullmatch(path):
            gemini_api.answer(exchange, match.group(1), match.group(2) != "generateContent")
        elif path.startswith("/v1beta/"):
            gemini_api.send_error(exchange, 404, "Requested entity was not found.")
        else:
            exchange.send_json(404, {"error": {"message": "not found"}})

    def _send_json(self, status: int, payload: dict) -> None:
        """For handlers built on this one (tests' gateways that misbehave in their own way)."""
        self._exchange(b"").send_json(status, payload)

    def _exchange(self, body: bytes) -> Exchange:
        return Exchange(
            self,
            body,
            results=self.server.results,
            base_url=self.server.base_url,
            latency=self.server.latency,
        )


class DemoGateway(ThreadingHTTPServer):
    daemon_threads = True
    # Hundreds of edits may connect at once (bench/inflight.py), as to a real gateway; the
    # standard library's backlog of 5 would have the rest retry their connect a second later.
    request_queue_size = 1024

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        models: Sequence[str] = ("gpt-4o-image",),
        latency: float = 3.0,
    ):
        super().__init__((host, port), DemoHandler)
        self.results = ResultStore()
        self.models = list(models)  # what GET /v1/models lists
        self.latency = latency  # seconds an answer takes, unless the instruction says otherwise

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """A client that hangs up on a kept-alive connection is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        # An IP socket reports its host as text; the stubs allow the bytes one may pass in.
        return f"http://{cast(str, host)}:{port}"


_running: DemoGateway | None = None
_start_lock = threading.Lock()


def ensure_running(*, models: Sequence[str], latency: float) -> str:
    """Start the demo gateway in this process on first use; returns its base URL.

    Later calls may name more models: the running gateway lists them too."""
    global _running
    with _start_lock:
        if _running is None:
            server = DemoGateway(models=models, latency=latency)
            threading.Thread(target=server.serve_forever, name="demo-gateway", daemon=True).start()
            logger.info("demo gateway listening on %s", server.base_url)
            _running = server
        else:
            known = _running.models
            _running.models = [*known, *(name for name in models if name not in known)]
        return _running.base_url
