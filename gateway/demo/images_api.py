"""The demo's images API: `POST /v1/images/edits` (multipart) and `/v1/images/generations` (JSON).

Answers as gpt-image-1 does: `{"created", "data": [{"b64_json"}], "usage"}`, or links into the
demo's result store with response_format=url; with stream=true, server-sent events
`image_edit.partial_image` / `image_edit.completed` (`image_generation.*` for generations),
each carrying a b64_json picture. Errors come in OpenAI's envelope,
`{"error": {"message", "type", "param", "code"}}`, with OpenAI's statuses and wording.

The mask is OpenAI's own: a PNG with an alpha channel, the size of the first picture,
transparent where to change. Outside it the result keeps the original's pixels exactly.
"""

import json
import re
import time

from PIL import Image

from ..options import pixel_size
from .asked import Asked, read_asked
from .chat import publish, send_gateway_error
from .effects import DIRECTIVE, parse_directives
from .making import (
    FORMATS,
    UnreadablePicture,
    area_from_alpha,
    b64,
    encode,
    make,
    open_picture,
    partial,
)
from .wire import Exchange

RESPONSE_FORMATS = ("b64_json", "url")
# gpt-image-1's output tokens for a 1024x1024 picture, by quality (OpenAI's pricing table).
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
IMAGE_INPUT_TOKENS = 323  # what one input picture costs, roughly, at low fidelity
MAX_N = 10
# Partial pictures streamed before each result when the request names none. OpenAI's default is
# none; the demo shows two, so that a streamed answer visibly makes progress.
DEFAULT_PARTIALS = 2


class BadRequest(Exception):
    """A 400 with OpenAI's words, naming the parameter at fault."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.param = param
        self.code = code


def answer(exchange: Exchange, editing: bool) -> None:
    authorization = exchange.header("Authorization")
    key = (
        authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
    )
    if not key:
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        _send_error(exchange, 401, message, "invalid_request_error")
        return
    try:
        fields, files = _read_form(exchange) if editing else _read_json(exchange)
        prompt = _required(fields, "prompt")
        directives = parse_directives(prompt)
        pictures = _read_pictures(files) if editing else []
        area = _read_area(files, pictures[0].size) if editing else None
        asked = _read_asked(fields, DIRECTIVE.sub("", prompt), directives)
        response_format = _choice(fields, "response_format", RESPONSE_FORMATS, "b64_json")
        output_format = _choice(fields, "output_format", tuple(FORMATS), "png")
        partials = _count(fields, "partial_images", 0, 3, DEFAULT_PARTIALS)
    except BadRequest as problem:
        _send_error(
            exchange, 400, str(problem), "invalid_request_error", problem.param, problem.code
        )
        return
    status = int(directives.get("fail") or 0)
    if status == 401:
        message = (
            f"Incorrect API key provided: {key}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        _send_error(exchange, 401, message, "invalid_request_error", code="invalid_api_key")
        return
    if status:
        send_gateway_error(exchange, status)
        return
    if "refuse" in directives:
        message = (
            "Your request was rejected as a result of our safety system. Your prompt may "
            "contain text that is not allowed by our safety system."
        )
        _send_error(
            exchange, 400, message, "invalid_request_error", code="content_policy_violation"
        )
        return
    if "moderation" in directives or "filter" in directives:
        message = (
            "Your request was rejected by the safety system. If you believe this is an error, "
            "contact us at help.openai.com and include the request ID demo."
        )
        error = {"safety_violations": ["violence"]}
        _send_error(exchange, 400, message, "image_generation_user_error", None,
                    "moderation_blocked", error)  # fmt: skip
        return
    latency = float(directives.get("latency") or exchange.latency)
    quality = str(fields.get("quality") or "auto")
    made = make(asked, pictures, area)
    answered = _Answer(asked, made.pictures, pictures, quality, output_format)
    latency = exchange.remaining(latency)
    if _truthy(fields.get("stream")):
        kind = "image_edit" if editing else "image_generation"
        _stream(exchange, answered, kind, partials, latency, directives)
        return
    if "error" in directives:
        time.sleep(latency)
        message = "The server had an error while processing your request. Sorry about that!"
        _send_error(exchange, 500, message, "server_error")
        return
    if response_format == "url":
        data = [
            {"url": publish(exchange, encode(picture, output_format), output_format, directives)}
            for picture in made.pictures
        ]
    else:
        data = [{"b64_json": b64(encode(picture, output_format))} for picture in made.pictures]
    body = {
        "created": int(time.time()),
        "data": data,
        **answered.settings,
        "usage": answered.usage(),
    }
    exchange.send_slowly(200, body, latency, drop="drop" in directives, stall="stall" in directives)


class _Answer:
    """The pictures made, with what OpenAI says about them: size, quality, format, tokens."""

    def __init__(
        self,
        asked: Asked,
        pictures: list[Image.Image],
        sources: list[Image.Image],
        quality: str,
        output_format: str,
    ):
        self.asked = asked
        self.pictures = pictures
        self.sources = sources
        self.quality = quality if quality in OUTPUT_TOKENS else "high"
        self.output_format = output_format
        width, height = pictures[0].size
        self.settings = {
            "background": "opaque",
            "output_format": output_format,
            "quality": self.quality,
            "size": f"{width}x{height}",
        }

    def event(self, name: str, picture: bytes, **more: object) -> dict:
        """A streamed event carrying a picture, as OpenAI sends them."""
        created = int(time.time())
        return {"type": name, "b64_json": b64(picture), "created_at": created, **self.settings,
                **more}  # fmt: skip

    def usage(self, pictures: int | None = None) -> dict:
        """Tokens as gpt-image-1 counts them; for `pictures` of the results, else all."""
        count = len(self.pictures) if pictures is None else pictures
        width, height = self.pictures[0].size
        per_picture = round(OUTPUT_TOKENS[self.quality] * width * height / (1024 * 1024))
        text_tokens = max(1, len(self.asked.prompt) // 4)
        image_tokens = IMAGE_INPUT_TOKENS * len(self.sources)
        output = per_picture * count
        return {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": output,
            "total_tokens": text_tokens + image_tokens + output,
        }


def _stream(
    exchange: Exchange,
    answered: _Answer,
    kind: str,
    partials: int,
    latency: float,
    directives: dict[str, str],
) -> None:
    exchange.start_stream()
    if "stall" in directives:
        time.sleep(latency)  # headers sent, then silence: what idle-timeout proxies cut
    pause = latency / max(1, len(answered.pictures) * (partials + 1))
    for number, picture in enumerate(answered.pictures):
        for step in range(partials):
            time.sleep(pause)
            coarse = encode(partial(picture, step, partials), answered.output_format)
            name = f"{kind}.partial_image"
            exchange.event(answered.event(name, coarse, partial_image_index=step), name)
        time.sleep(pause)
        if "drop" in directives and number == 0:
            exchange.cut()  # the body never ends: the client sees a dropped connection
            return
        if "error" in directives:
            message = "The server had an error while processing your request. Sorry about that!"
            error = {"type": "server_error", "code": None, "message": message, "param": None}
            exchange.event({"type": "error", "error": error}, "error")
            exchange.end_stream()
            return
        name = f"{kind}.completed"
        whole = encode(picture, answered.output_format)
        exchange.event(answered.event(name, whole, usage=answered.usage(1)), name)
    exchange.end_stream()


def _send_error(
    exchange: Exchange,
    status: int,
    message: str,
    error_type: str,
    param: str | None = None,
    code: str | None = None,
    more: dict | None = None,
) -> None:
    error = {"message": message, "type": error_type, "param": param, "code": code, **(more or {})}
    exchange.send_json(status, {"error": error})


def _read_json(exchange: Exchange) -> tuple[dict, dict[str, list[bytes]]]:
    try:
        fields = json.loads(exchange.body)
    except ValueError as exc:
        raise BadRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)"
        ) from exc
    if not isinstance(fields, dict):
        raise BadRequest("The request body must be a JSON object.")
    return fields, {}


def _read_form(exchange: Exchange) -> tuple[dict, dict[str, list[bytes]]]:
    """The fields and files of a multipart/form-data body, the files in the order sent."""
    content_type = exchange.header("Content-Type")
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not boundary:
        raise BadRequest(
            "Invalid Content-Type header (application/json), expected multipart/form-data."
        )
    fields: dict[str, str] = {}
    files: dict[str, list[bytes]] = {}
    for section in exchange.body.split(b"--" + boundary.group(1).encode())[1:]:
        if section.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = next(
            (line for line in head.decode("utf-8", "replace").split("\r\n")
             if line.lower().startswith("content-disposition:")),
            "",
        )  # fmt: skip
        name = re.search(r'\bname="([^"]*)"', disposition)
        if not name:
            continue
        if re.search(r'\bfilename="', disposition):
            files.setdefault(name.group(1), []).append(content)
        else:
            fields[name.group(1)] = content.decode("utf-8", "replace")
    return fields, files


def _required(fields: dict, name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(
            f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
        )
    return value


def _read_pictures(files: dict[str, list[bytes]]) -> list[Image.Image]:
    sent = [*files.get("image[]", []), *files.get("image", [])]
    if not sent:
        raise BadRequest(
            "Missing required parameter: 'image'.", "image", "missing_required_parameter"
        )
    pictures = []
    for number, data in enumerate(sent, 1):
        try:
            pictures.append(open_picture(data))
        except UnreadablePicture as exc:
            raise BadRequest(
                f"Invalid image file or mode for image {number}, please check your image file.",
                "image",
                "invalid_image_file",
            ) from exc
    return pictures


def _read_area(files: dict[str, list[bytes]], size: tuple[int, int]) -> Image.Image | None:
    """The area to change from the mask, if one came: checked as OpenAI checks it."""
    sent = files.get("mask")
    if not sent:
        return None
    try:
        mask = open_picture(sent[0])
    except UnreadablePicture as exc:
        raise BadRequest("Invalid mask image format - mask must be a PNG.", "mask") from exc
    if mask.format != "PNG":
        raise BadRequest("Invalid mask image format - mask must be a PNG.", "mask")
    if "A" not in mask.getbands() and "transparency" not in mask.info:
        raise BadRequest("Invalid mask image format - mask must have an alpha channel.", "mask")
    if mask.size != size:
        raise BadRequest("Invalid mask image format - mask size does not match image size", "mask")
    return area_from_alpha(mask)


def _read_asked(fields: dict, prompt: str, directives: dict[str, str]) -> Asked:
    size = str(fields.get("size") or "auto")
    if size != "auto" and pixel_size(size) is None:
        raise BadRequest(
            f"Invalid value: '{size}'. Supported values are: '1024x1024', '1024x1536', "
            "'1536x1024', and 'auto'.",
            "size",
            "invalid_value",
        )
    n = _count(fields, "n", 1, MAX_N, 1)
    return read_asked({"size": size, "n": n}, prompt, directives.get("n", ""))


def _count(fields: dict, name: str, lowest: int, highest: int, default: int) -> int:
    value = fields.get(name)
    if value is None or value == "":
        return default
    try:
        count = int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"Invalid type for '{name}': expected an integer.", name) from exc
    if not lowest <= count <= highest:
        raise BadRequest(
            f"Invalid '{name}': expected a value between {lowest} and {highest}, but got "
            f"{count} instead.",
            name,
            "integer_above_max_value" if count > highest else "integer_below_min_value",
        )
    return count


def _choice(fields: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(fields.get(name) or default)
    if value not in allowed:
        supported = ", ".join(f"'{each}'" for each in allowed)
        raise BadRequest(
            f"Invalid value: '{value}'. Supported values are: {supported}.", name, "invalid_value"
        )
    return value


def _truthy(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")
