"""The demo's `POST /v1/chat/completions`: a reseller's answers, in every reply family.

The pictures come as data: URLs in the last user message; a mask, when the instruction carries
gateway.masks.MASK_SENTENCE, is the last of them (white = change). Results are links into the
demo's result store, or data: URIs, by the [demo:family=…] directive.
"""

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Iterator

from PIL import Image

from .asked import Asked, read_asked
from .effects import CJK, DIRECTIVE, PROGRESS, parse_directives
from .making import (
    EXTENSIONS,
    FORMATS,
    UnreadablePicture,
    area_from_visible,
    encode,
    has_mask_sentence,
    make,
    open_picture,
    without_mask_sentence,
)
from .wire import Exchange

# new-api's own error bodies, as its relays answer them.
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


def answer(exchange: Exchange, key: str) -> None:
    try:
        request = json.loads(exchange.body)
        instruction, pictures = _read_messages(request)
    except (ValueError, KeyError, TypeError, binascii.Error, UnreadablePicture):
        exchange.send_json(400, {"error": {"message": "malformed request", "code": "bad_request"}})
        return
    directives = parse_directives(instruction)
    status = int(directives.get("fail") or 0)
    if status == 401:
        # As OpenAI's own API does: the rejected key, quoted back in the message.
        message = f"Incorrect API key provided: {key}. (request id: demo)"
        exchange.send_json(401, {"error": {"message": message, "code": "invalid_api_key"}})
        return
    if status:
        send_gateway_error(exchange, status)
        return
    latency = float(directives.get("latency") or exchange.latency)
    area = None
    if has_mask_sentence(instruction) and len(pictures) >= 2:
        area = area_from_visible(pictures.pop(), pictures[0].size)
    words = without_mask_sentence(DIRECTIVE.sub("", instruction))
    asked = read_asked(request, words, directives.get("n", ""))
    reply = _compose_reply(exchange, asked, pictures, area, directives, bool(CJK.search(words)))
    # The whole answer takes `latency` seconds, the demo's own picture work included.
    latency = exchange.remaining(latency)
    if request.get("stream"):
        _stream(exchange, reply, latency, directives)
    else:
        exchange.send_slowly(200, _completion(reply), latency, drop=False, stall=False)


def send_gateway_error(exchange: Exchange, status: int) -> None:
    """A relay's error: new-api's JSON for the statuses it has words for, else a proxy's page."""
    if status in ERROR_BODIES:
        exchange.send_json(status, {"error": ERROR_BODIES[status]})
    else:
        exchange.send_html_error(status)


def _compose_reply(
    exchange: Exchange,
    asked: Asked,
    pictures: list[Image.Image],
    area: Image.Image | None,
    directives: dict[str, str],
    chinese: bool,
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
        return {"text": "生成失败 ❌\n失败原因：input_moderation", "images": [], "finish": "stop"}
    if "filter" in directives:
        return {"text": "", "images": [], "finish": "content_filter"}
    if "error" in directives:
        return {"text": "", "images": [], "finish": "error"}
    made = make(asked, pictures, area)
    # A masked edit leaves the rest of the picture exactly as it was: only a PNG keeps it so.
    output_format = "png" if area is not None else "jpeg"
    results = [_publish(exchange, each, output_format, directives) for each in made.pictures]
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
        text = f"Done ({', '.join(made.done)}): {' '.join(links)}"
        return {"text": text, "images": [], "finish": "stop"}
    return {"text": _transcript(asked, links, chinese), "images": [], "finish": "stop"}


def publish(exchange: Exchange, data: bytes, output_format: str, directives: dict[str, str]) -> str:
    """Keep a result for download; its link (broken on request: [demo:badlink], [demo:private])."""
    key = exchange.results.put(data)
    extension = EXTENSIONS[output_format]
    if "badlink" in directives:
        return f"{exchange.base_url}/cdn/expired-{key}.{extension}"
    if "private" in directives:
        return f"http://10.0.0.1/cdn/{key}.{extension}"
    return f"{exchange.base_url}/cdn/{key}.{extension}"


def _publish(
    exchange: Exchange, image: Image.Image, output_format: str, directives: dict[str, str]
) -> tuple[str, str]:
    """A result's data: URI and its link."""
    data = encode(image, output_format)
    inline = f"data:{FORMATS[output_format][1]};base64,{base64.b64encode(data).decode()}"
    return inline, publish(exchange, data, output_format, directives)


def _stream(exchange: Exchange, reply: dict, latency: float, directives: dict[str, str]) -> None:
    exchange.start_stream()
    pieces = list(_pieces(reply["text"]))
    pause = latency / max(1, len(pieces))
    exchange.chunk(": keep-alive\n\n")
    if "stall" in directives:
        time.sleep(latency)  # headers sent, then silence: what idle-timeout proxies cut
    for index, piece in enumerate(pieces):
        if "drop" in directives and index > len(pieces) * 0.6:
            exchange.cut()
            return
        time.sleep(pause)
        exchange.event({"choices": [{"index": 0, "delta": {"content": piece}}]})
    if reply["images"]:
        delta = _images_delta(reply)
        exchange.event({"choices": [{"index": 0, "delta": delta}]})
    if reply["finish"] == "error":
        exchange.event({"error": {"message": "upstream model crashed", "code": 500}})
    else:
        exchange.event({"choices": [{"index": 0, "delta": {}, "finish_reason": reply["finish"]}]})
    exchange.event({"choices": [], "usage": _usage(reply)})
    exchange.chunk("data: [DONE]\n\n")
    exchange.end_stream()


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
                pictures.append(open_picture(base64.b64decode(encoded, validate=True)))
    return "\n".join(texts), pictures


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
