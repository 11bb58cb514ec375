"""The built-in demo gateway.

A real OpenAI-compatible `POST /v1/chat/completions` endpoint on loopback that edits the picture
with Pillow according to simple words in the instruction, answers in the reseller transcript
style (streamed or not) and serves its results as links, which Gaitu downloads like any other.

Directives in the instruction make it misbehave on purpose, for tests and for trying things out:
`[demo:family=f1..f5]` picks the reply family, `[demo:fail=429]` (or 401, 402, 500, 502, 503)
answers with that gateway error, `[demo:refuse]`, `[demo:moderation]`, `[demo:error]` (in-band
error), `[demo:filter]` (finish_reason content_filter), `[demo:drop]` (connection cut
mid-stream), `[demo:stall]` (silence after the headers), `[demo:badlink]` (a result link that
is gone) and `[demo:private]` (a result link into a private network) fail in those ways;
`[demo:n=2]` makes two results and `[demo:latency=S]` overrides how long it takes.

With no picture in the request it draws one from the words (gateway/demo/drawing.py). Sizes
and the number of results are honoured however Gaitu sends them (gateway/demo/asked.py): a
generation is 1024x1024 unless asked otherwise, an edit keeps its picture's size unless a size
is asked; the F1 transcript echoes what was asked, as a reseller's does.
"""

import base64
import binascii
import io
import json
import logging
import re
import secrets
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

from PIL import Image, ImageOps

from .asked import Asked, read_asked
from .drawing import draw, scene_for
from .effects import CJK, DIRECTIVE, PROGRESS, apply_instruction, parse_directives

logger = logging.getLogger(__name__)


class _ResultStore:
    """The last few results, in memory: Gaitu downloads each one right after it is made."""

    def __init__(self, capacity: int = 200):
        self.capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.get(key)


ERROR_BODIES = {
    402: {
        "message": "用户额度不足, 剩余额度: ＄0.000000 (request id: demo)",
        "type": "new_api_error",
        "code": "insufficient_user_quota",
    },
    429: {
        "message": "当前分组上游负载已饱和，请稍后再试 (request id: demo)",
        "type": "new_api_error",
        "code": "",
    },
    503: {
        "message": "当前分组 default 下对于模型 demo 无可用渠道 (request id: demo)",
        "type": "new_api_error",
        "code": "model_not_found",
    },
}


class DemoHandler(BaseHTTPRequestHandler):
    server: "DemoGateway"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("demo gateway: " + format, *args)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            models = [{"id": name, "object": "model"} for name in self.server.models]
            self._send_json(200, {"object": "list", "data": models})
            return
        match = re.fullmatch(r"/(?:cdn|cdn/download|raw)/([\w-]+)\.(?:jpg|png)", self.path)
        data = self.server.results.get(match.group(1)) if match else None
        if data is None:
            self._send_json(404, {"error": {"message": "not found"}})
            return
        self._send_bytes(200, data, "image/png" if data[:4] == b"\x89PNG" else "image/jpeg")

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found"}})
            return
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            self._send_json(401, {"error": {"message": "missing bearer token"}})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            received = time.monotonic()  # the gateway's time starts: reading, editing, answering
            request = json.loads(body)
            instruction, pictures = _read_messages(request)
        except (ValueError, KeyError, TypeError, binascii.Error):
            self._send_json(400, {"error": {"message": "malformed request", "code": "bad_request"}})
            return
        directives = parse_directives(instruction)
        status = int(directives.get("fail") or 0)
        if status == 401:
            # As OpenAI's own API does: the rejected key, quoted back in the message.
            key = authorization.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key}. (request id: demo)"
            self._send_json(401, {"error": {"message": message, "code": "invalid_api_key"}})
            return
        if status:
            self._send_error_page(status)
            return
        latency = float(directives.get("latency") or self.server.latency)
        asked = read_asked(request, DIRECTIVE.sub("", instruction), directives.get("n", ""))
        reply = self._compose_reply(asked, pictures, directives, bool(CJK.search(instruction)))
        # The whole answer takes `latency` seconds, the demo's own picture work included.
        latency = max(0.0, latency - (time.monotonic() - received))
        if request.get("stream"):
            self._stream(reply, latency, directives)
        else:
            time.sleep(latency)
            self._send_json(200, _completion(reply))

    def _compose_reply(
        self, asked: Asked, pictures: list[Image.Image], directives: dict[str, str], chinese: bool
    ) -> dict:
        """The whole reply as: the text, an images list, and how it finishes."""
        if "refuse" in directives:
            text = (
                "抱歉，我无法处理这个请求。"
                if chinese
                else "I'm sorry, but I can't help with editing this picture."
            )
            return {"text": text, "images": [], "finish": "stop"}
        if "moderation" in directives:
            return {
                "text": "生成失败 ❌\n失败原因：input_moderation",
                "images": [],
                "finish": "stop",
            }
        if "filter" in directives:
            return {"text": "", "images": [], "finish": "content_filter"}
        if "error" in directives:
            return {"text": "", "images": [], "finish": "error"}
        variants, done = _made(asked, pictures)
        results = [self._publish(variant, directives) for variant in variants]
        family = directives.get("family", "f1").lower()
        if family == "f2":
            text = "\n".join(f"![image]({inline})" for inline, _ in results)
            return {"text": text, "images": [], "finish": "stop"}
        if family in ("f3", "f4"):
            return {
                "text": "Here is the edited picture.",
                "images": [inline for inline, _ in results],
                "finish": "stop",
                "parts": family == "f4",
            }
        links = [link for _, link in results]
        if family == "f5":
            text = f"Done ({', '.join(done)}): {' '.join(links)}"
            return {"text": text, "images": [], "finish": "stop"}
        return {"text": _transcript(asked, links, chinese), "images": [], "finish": "stop"}

    def _publish(self, image: Image.Image, directives: dict[str, str]) -> tuple[str, str]:
        """Keep a result for download; its data: URI and its link (broken on request)."""
        data, extension = _encode(image)
        key = self.server.results.put(data)
        inline = f"data:image/jpeg;base64,{base64.b64encode(data).decode()}"
        if "badlink" in directives:
            return inline, f"{self.server.base_url}/cdn/expired-{key}.{extension}"
        if "private" in directives:
            return inline, f"http://10.0.0.1/cdn/{key}.{extension}"
        return inline, f"{self.server.base_url}/cdn/{key}.{extension}"

    def _stream(self, reply: dict, latency: float, directives: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = list(_pieces(reply["text"]))
        pause = latency / max(1, len(pieces))
        self._chunk(": keep-alive\n\n")
        if "stall" in directives:
            time.sleep(latency)  # headers sent, then silence: what idle-timeout proxies cut
        for index, piece in enumerate(pieces):
            if "drop" in directives and index > len(pieces) * 0.6:
                self.wfile.flush()
                self.close_connection = True
                return  # the chunked body never ends: the client sees a dropped connection
            time.sleep(pause)
            self._event({"choices": [{"index": 0, "delta": {"content": piece}}]})
        if reply["images"]:
            delta = _images_delta(reply)
            self._event({"choices": [{"index": 0, "delta": delta}]})
        if reply["finish"] == "error":
            self._event({"error": {"message": "upstream model crashed", "code": 500}})
        else:
            self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": reply["finish"]}]})
        self._event({"choices": [], "usage": _usage(reply)})
        self._chunk("data: [DONE]\n\n")
        self._chunk("")

    def _event(self, payload: dict) -> None:
        self._chunk(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n")

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_error_page(self, status: int) -> None:
        if status in ERROR_BODIES:
            self._send_json(status, {"error": ERROR_BODIES[status]})
            return
        page = f"<html><head><title>{status} Bad Gateway</title></head><body>nginx</body></html>"
        self._send_bytes(status, page.encode(), "text/html")

    def _send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, body, "application/json")

    def _send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _read_messages(request: dict) -> tuple[str, list[Image.Image]]:
    """The instruction text and the pictures of the last user message."""
    content = request["messages"][-1]["content"]
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    pictures: list[Image.Image] = []
    for part in content:
        if part.get("type") == "text":
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            url = part["image_url"]["url"]
            header, _, encoded = url.partition(",")
            if header.startswith("data:image/") and header.endswith(";base64"):
                picture = Image.open(io.BytesIO(base64.b64decode(encoded, validate=True)))
                picture.load()
                pictures.append(picture)
    return "\n".join(texts), pictures


def _made(asked: Asked, pictures: list[Image.Image]) -> tuple[list[Image.Image], list[str]]:
    """The pictures made, as many as asked, of the asked size; and what was done.

    From a picture: edited by the words, its variants mirrored and shifted in hue. From the
    words alone: drawn, each variant of its own."""
    if not pictures:
        size = asked.generated_size()
        drawn = [draw(asked.prompt, size, variant) for variant in range(asked.n)]
        return drawn, [scene_for(asked.prompt) or "pattern"]
    edited, done = apply_instruction(pictures[0], asked.prompt)
    if asked_size := asked.edited_size(edited.size):
        edited = ImageOps.fit(edited, asked_size)
    return [_varied(edited, variant) for variant in range(asked.n)], done


def _varied(image: Image.Image, variant: int) -> Image.Image:
    """The edited picture itself (0), mirrored (1), shifted in hue (2), both (3)."""
    if variant >= 2:
        hue, saturation, value = image.convert("HSV").split()
        hue = hue.point(lambda level: (level + 64) % 256)
        image = Image.merge("HSV", (hue, saturation, value)).convert("RGB")
    return ImageOps.mirror(image) if variant % 2 else image


def _encode(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue(), "jpg"


def _transcript(asked: Asked, links: list[str], chinese: bool) -> str:
    """A reseller-style (F1) transcript: parameters, task id, progress, images, download twins."""
    params = json.dumps({**asked.echo, "n": len(links)}, ensure_ascii=False)
    lines = [f"```json\n{params}\n```", f"> ID: `task_{secrets.token_hex(6)}`"]
    if chinese:
        lines += ["> 🕐 排队中...", "> ⚡ 生成中...", f"> 🏃 进度 {PROGRESS}", "> ✅ 生成完成"]
        download = "点击下载"
    else:
        lines += [
            "> 🕐 Queuing...",
            "> ⚡ Generating...",
            f"> 🏃 Progress {PROGRESS}",
            "> ✅ Generation complete",
        ]
        download = "Click to download"
    for number, link in enumerate(links, 1):
        lines += [
            f"![gen_{number:02d}]({link})",
            f"[{download}]({link.replace('/cdn/', '/cdn/download/')})",
        ]
    return "\n".join(lines)


def _pieces(text: str) -> Iterator[str]:
    """Split a reply the way resellers stream it: a dot or a percent at a time."""
    for line in text.splitlines(keepends=True):
        if line.startswith(("> 🏃", "> 🕐", "> ⚡")):
            yield from (piece for piece in re.split(r"(\d*\.)", line) if piece)
        elif line.startswith("![image](data:"):
            for start in range(0, len(line), 8192):  # base64 split across many chunks
                yield line[start : start + 8192]
        else:
            yield line


def _images_delta(reply: dict) -> dict:
    parts = [{"type": "image_url", "image_url": {"url": url}} for url in reply["images"]]
    if reply.get("parts"):
        return {"content": parts}
    return {"images": parts}


def _completion(reply: dict) -> dict:
    message: dict = {"role": "assistant", "content": reply["text"]}
    if reply["images"]:
        message.update(_images_delta(reply))
        if reply.get("parts"):
            message["content"] = [{"type": "text", "text": reply["text"]}, *message["content"]]
    choice: dict = {"index": 0, "message": message, "finish_reason": reply["finish"]}
    if reply["finish"] == "error":
        choice["error"] = {"message": "upstream model crashed", "code": 500}
    return {"object": "chat.completion", "choices": [choice], "usage": _usage(reply)}


def _usage(reply: dict) -> dict:
    completion = 0 if reply["finish"] == "error" else max(1, len(reply["text"]) // 4)
    return {"prompt_tokens": 800, "completion_tokens": completion, "total_tokens": 800 + completion}


class DemoGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        models: Sequence[str] = ("gpt-4o-image",),
        latency: float = 3.0,
    ):
        super().__init__((host, port), DemoHandler)
        self.results = _ResultStore()
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
    """Start the demo gateway in this process on first use; returns its base URL."""
    global _running
    with _start_lock:
        if _running is None:
            server = DemoGateway(models=models, latency=latency)
            threading.Thread(target=server.serve_forever, name="demo-gateway", daemon=True).start()
            logger.info("demo gateway listening on %s", server.base_url)
            _running = server
        return _running.base_url
