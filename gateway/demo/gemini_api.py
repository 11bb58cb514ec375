"""The demo's Gemini API: `POST /v1beta/models/{model}:generateContent` and
`:streamGenerateContent` (server-sent events with ?alt=sse, else one JSON array, as Google's).

The key comes as `x-goog-api-key` or `?key=`. The pictures are the inlineData parts of the last
user content (snake_case inline_data too); a mask, when the text carries
gateway.masks.MASK_SENTENCE, is the last of them (white = change). The answer is a
GenerateContentResponse: a text part and one inlineData PNG per picture, finishReason STOP and
usageMetadata; streamed, a progress text or two come first, then the pictures. Errors come in
Google's envelope, `{"error": {"code", "message", "status"}}`.
"""

import base64
import binascii
import json
import secrets
import time

from PIL import Image

from .asked import Asked, read_asked
from .effects import CJK, DIRECTIVE, parse_directives
from .making import (
    UnreadablePicture,
    area_from_visible,
    b64,
    encode,
    has_mask_sentence,
    make,
    open_picture,
    without_mask_sentence,
)
from .wire import Exchange

# Gemini's image models take these aspect ratios (imageConfig.aspectRatio) and no others.
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
PROMPT_IMAGE_TOKENS = 258  # what Gemini counts for each picture sent
OUTPUT_IMAGE_TOKENS = 1290  # and for each picture made (gemini-2.5-flash-image)

# (status, Google's words) for each HTTP status a [demo:fail=…] directive may ask for.
ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
    402: (
        "FAILED_PRECONDITION",
        "Your prepayment credits are depleted. Please go to AI Studio to manage your project "
        "and billing.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    ),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


class BadRequest(ValueError):
    """A 400 INVALID_ARGUMENT with Google's words."""


def key_of(exchange: Exchange) -> str:
    """The API key as Google takes it (a header or ?key=); relays take a bearer token too."""
    bearer = exchange.header("Authorization")
    return (
        exchange.header("x-goog-api-key")
        or exchange.query.get("key", "")
        or (bearer.removeprefix("Bearer ").strip() if bearer.startswith("Bearer ") else "")
    )


def refuse_unkeyed(exchange: Exchange) -> bool:
    """Answer 403 as Google does to a request without a key; True when it did."""
    if key_of(exchange):
        return False
    message = (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
    send_error(exchange, 403, message)
    return True


def list_models(exchange: Exchange, models: list[str]) -> None:
    methods = ["generateContent", "streamGenerateContent", "countTokens"]
    listed = [
        {"name": f"models/{name}", "displayName": name, "supportedGenerationMethods": methods}
        for name in models
    ]
    exchange.send_json(200, {"models": listed})


def answer(exchange: Exchange, model: str, streaming: bool) -> None:
    if refuse_unkeyed(exchange):
        return
    try:
        request = json.loads(exchange.body)
        instruction, pictures = _read_contents(request)
        config = _camel(request.get("generationConfig") or request.get("generation_config") or {})
        ratio = _aspect_ratio(config)
    except (binascii.Error, UnreadablePicture):
        send_error(exchange, 400, "Unable to process input image. Please retry or report in "
                   "https://developers.generativeai.google/guide/troubleshooting")  # fmt: skip
        return
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = str(exc) if isinstance(exc, BadRequest) else "Invalid JSON payload received."
        send_error(exchange, 400, message)
        return
    directives = parse_directives(instruction)
    status = int(directives.get("fail") or 0)
    if status:
        if status == 502:
            exchange.send_html_error(status)  # a proxy in front of the API
        else:
            send_error(exchange, status, ERRORS.get(status, ("UNKNOWN", "Unknown error."))[1])
        return
    latency = float(directives.get("latency") or exchange.latency)
    area = None
    if has_mask_sentence(instruction) and len(pictures) >= 2:
        area = area_from_visible(pictures.pop(), pictures[0].size)
    words = without_mask_sentence(DIRECTIVE.sub("", instruction))
    asked = read_asked({"image_config": {"aspect_ratio": ratio}}, words, directives.get("n", ""))
    modalities = [str(each).upper() for each in config.get("responseModalities") or ["IMAGE"]]
    chinese = bool(CJK.search(words))
    chunks = _chunks(asked, pictures, area, directives, "IMAGE" in modalities, chinese)
    for chunk in chunks:
        chunk["modelVersion"] = model
        chunk["responseId"] = secrets.token_urlsafe(16)
    latency = exchange.remaining(latency)
    if streaming:
        _stream(exchange, chunks, latency, directives, sse=exchange.query.get("alt") == "sse")
        return
    if "error" in directives:
        time.sleep(latency)
        send_error(exchange, 500, ERRORS[500][1])
        return
    exchange.send_slowly(
        200, _joined(chunks), latency, drop="drop" in directives, stall="stall" in directives
    )


def send_error(exchange: Exchange, status: int, message: str) -> None:
    google_status = ERRORS.get(status, ("UNKNOWN", ""))[0]
    error: dict = {"code": status, "message": message, "status": google_status}
    if status == 401:
        error["details"] = [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }]  # fmt: skip
    exchange.send_json(status, {"error": error})


def _chunks(
    asked: Asked,
    pictures: list[Image.Image],
    area: Image.Image | None,
    directives: dict[str, str],
    with_image: bool,
    chinese: bool,
) -> list[dict]:
    """The answer as the chunks a stream sends; joined, the whole answer."""
    prompt_tokens = max(1, len(asked.prompt) // 4) + PROMPT_IMAGE_TOKENS * len(pictures)
    if directives.get("moderation") == "prompt":
        # The prompt itself blocked: no candidate at all.
        feedback = {"blockReason": "PROHIBITED_CONTENT"}
        return [{"promptFeedback": feedback, "usageMetadata": _usage(prompt_tokens, 0, 0)}]
    if "moderation" in directives or "filter" in directives:
        reason = "IMAGE_SAFETY" if "moderation" in directives else "SAFETY"
        candidate = {
            "finishReason": reason,
            "finishMessage": "Unable to show the generated image. The image was filtered out "
            "because it violated Google's Generative AI Prohibited Use policy.",
            "index": 0,
        }
        return [{"candidates": [candidate], "usageMetadata": _usage(prompt_tokens, 0, 0)}]
    if "refuse" in directives:
        # Gemini's refusal is words alone, finishing as any answer does.
        text = "抱歉，我无法处理这个请求。" if chinese else "I'm sorry, but I can't help with that."
        return [_chunk([{"text": text}], "STOP", _usage(prompt_tokens, len(text) // 4, 0))]
    if not with_image:
        # responseModalities without IMAGE: a text model's answer, words only.
        text = _progress(asked, pictures, chinese)[1]
        return [_chunk([{"text": text}], "STOP", _usage(prompt_tokens, len(text) // 4, 0))]
    first, second = _progress(asked, pictures, chinese)
    made = make(asked, pictures, area)
    chunks = [
        _chunk([{"text": first}], None, _usage(prompt_tokens, len(first) // 4, 0)),
        _chunk([{"text": second}], None, _usage(prompt_tokens, len(second) // 4, 0)),
    ]
    for number, picture in enumerate(made.pictures, 1):
        part = {"inlineData": {"mimeType": "image/png", "data": b64(encode(picture, "png"))}}
        last = number == len(made.pictures)
        text_tokens = (len(first) + len(second)) // 4
        usage = _usage(prompt_tokens, text_tokens, number)
        chunks.append(_chunk([part], "STOP" if last else None, usage))
    return chunks


def _progress(asked: Asked, pictures: list[Image.Image], chinese: bool) -> tuple[str, str]:
    if chinese:
        return ("好的，正在处理这张图片。" if pictures else "好的，正在生成图片。"), "完成了。"
    if pictures:
        return "Sure, editing the picture now. ", "Here is the edited picture."
    return "Sure, drawing it now. ", "Here is the picture."


def _chunk(parts: list[dict], finish: str | None, usage: dict) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage}


def _usage(prompt: int, text: int, pictures: int) -> dict:
    candidates = text + OUTPUT_IMAGE_TOKENS * pictures
    usage: dict = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates,
    }
    if pictures:
        usage["candidatesTokensDetails"] = [
            {"modality": "IMAGE", "tokenCount": OUTPUT_IMAGE_TOKENS * pictures}
        ]
    return usage


def _joined(chunks: list[dict]) -> dict:
    """The chunks as one answer: every part in one candidate, the last chunk's ending."""
    whole = dict(chunks[-1])
    if "candidates" in whole:
        parts = [part for chunk in chunks for part in chunk["candidates"][0].get("content", {})
                 .get("parts", [])]  # fmt: skip
        candidate = dict(whole["candidates"][0])
        if parts:
            candidate["content"] = {"role": "model", "parts": _merged_text(parts)}
        whole["candidates"] = [candidate]
    return whole


def _merged_text(parts: list[dict]) -> list[dict]:
    """Neighbouring text parts as one, as a non-streamed answer has them."""
    merged: list[dict] = []
    for part in parts:
        if "text" in part and merged and "text" in merged[-1]:
            merged[-1] = {"text": merged[-1]["text"] + part["text"]}
        else:
            merged.append(part)
    return merged


def _stream(
    exchange: Exchange, chunks: list[dict], latency: float, directives: dict[str, str], sse: bool
) -> None:
    exchange.start_stream("text/event-stream" if sse else "application/json; charset=UTF-8")
    if "stall" in directives:
        time.sleep(latency)  # headers sent, then silence: what idle-timeout proxies cut
    pause = latency / max(1, len(chunks))
    # Where a drop or an error strikes: at the first picture, once the progress is sent.
    failing_at = next(
        (index for index, chunk in enumerate(chunks) if _has_picture(chunk)), len(chunks) - 1
    )
    for index, chunk in enumerate(chunks):
        time.sleep(pause)
        if index == failing_at and "drop" in directives:
            exchange.cut()  # the body never ends: the client sees a dropped connection
            return
        if index == failing_at and "error" in directives:
            error = {"code": 500, "message": ERRORS[500][1], "status": "INTERNAL"}
            _send_chunk(exchange, {"error": error}, index, sse)
            break
        _send_chunk(exchange, chunk, index, sse)
    if not sse:
        exchange.chunk("]")
    exchange.end_stream()


def _has_picture(chunk: dict) -> bool:
    candidates = chunk.get("candidates") or [{}]
    parts = candidates[0].get("content", {}).get("parts", [])
    return any("inlineData" in part for part in parts)


def _send_chunk(exchange: Exchange, chunk: dict, index: int, sse: bool) -> None:
    if sse:
        exchange.event(chunk, line_end="\r\n")  # Google ends its events with CRLF
    else:
        text = json.dumps(chunk, ensure_ascii=False)
        exchange.chunk(("[" if index == 0 else ",\r\n") + text)


def _read_contents(request: dict) -> tuple[str, list[Image.Image]]:
    """The text and the pictures of the last user content."""
    contents = request["contents"]
    if isinstance(contents, dict):
        contents = [contents]
    users = [content for content in contents if content.get("role", "user") == "user"]
    if not users:
        raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
    texts: list[str] = []
    pictures: list[Image.Image] = []
    for part in users[-1]["parts"]:
        inline = part.get("inlineData") or part.get("inline_data")
        if "text" in part:
            texts.append(str(part["text"]))
        elif isinstance(inline, dict):
            data = base64.b64decode(inline["data"], validate=True)
            pictures.append(open_picture(data))
    return "\n".join(texts), pictures


def _camel(config: dict) -> dict:
    """generationConfig with its snake_case names (which Google takes too) as camelCase."""
    if not isinstance(config, dict):
        raise BadRequest("Invalid value at 'generation_config'")
    camel = {_camel_name(name): value for name, value in config.items()}
    if isinstance(camel.get("imageConfig"), dict):
        camel["imageConfig"] = {_camel_name(k): v for k, v in camel["imageConfig"].items()}
    return camel


def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _aspect_ratio(config: dict) -> str:
    image_config = config.get("imageConfig") or {}
    ratio = str(image_config.get("aspectRatio") or "")
    if ratio and ratio not in ASPECT_RATIOS:
        raise BadRequest(
            f"* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
            f"unsupported aspect ratio {ratio!r}"
        )
    return ratio
