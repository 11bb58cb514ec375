"""The images transport: OpenAI's images API, as OpenAI and the relays in front of it serve it.

Pictures go to `POST {api_root}/images/edits` as multipart/form-data, one `image[]` file part
each (and the mask as a file part of its own); with no pictures the words alone go to
`POST {api_root}/images/generations` as JSON. The results come back as `data[].b64_json`
(turned into data: URIs here) or `data[].url` (links the worker downloads), or, streamed, as
`image_edit.*` / `image_generation.*` server-sent events. Every way of failing becomes a
Failure, classified the way the chat transport classifies them.
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import httpx

from .. import http
from ..chat.client import RAW_REPLY_LIMIT
from ..chat.errors import classify_http_error, elide_data_uris
from ..config import GatewayConfig
from ..failures import Failure, GatewayFailure
from ..http import ERROR_BODY_LIMIT, REPLY_BODY_LIMIT
from ..options import pixel_size, pixels_for
from ..retries import TRANSIENT_STATUSES, parse_retry_after
from ..transport import ImageRequest, Outcome, ParsedReply, ProgressCallback, keeping_key_out

# Models that stream on the images API (OpenAI's GPT image models; DALL·E never did). A relay
# that cannot stream them answers with plain JSON, which is read all the same.
STREAMING_MODELS = ("gpt-image-*",)
# Partial pictures asked for while streaming. One, not zero: with none the stream stays silent
# until the picture is done, which is what makes proxies that cut idle connections (60-120 s)
# cut it, and the person sees nothing happen. More than one only costs more: OpenAI bills
# each partial picture's output tokens, and Gaitu shows none of them.
PARTIAL_IMAGES = 1
# Fields the deployment may set for every request (GatewayConfig.extra_body). Only these are
# taken: extra_body is shared with the chat transport, whose fields (messages, modalities,
# image_config…) the images API refuses as unknown parameters.
DEPLOYMENT_FIELDS = ("background", "output_format", "output_compression", "moderation")
# input_fidelity only for the models documented to take it: gpt-image-1 and gpt-image-1.5 with
# their dated snapshots. OpenAI refuses it from gpt-image-1-mini (which has one fidelity) and
# tells callers to leave it out for gpt-image-2; DALL·E and Seedream relays do not know it.
# Sent to any of those, a deployment default would fail every one of their edits.
INPUT_FIDELITY_MODELS = ("gpt-image-1", "gpt-image-1-20*", "gpt-image-1.5", "gpt-image-1.5-*")

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_FORMAT_TYPES = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp", "gif": "gif"}
# How each format's first bytes look in base64.
_SIGNATURES = (("iVBORw0KGgo", "png"), ("/9j/", "jpeg"), ("UklGR", "webp"), ("R0lGOD", "gif"))
# A b64_json value in a reply's text (its `/` may be escaped as `\/`), cut for the record.
_B64_FIELD = re.compile(r'("(?:b64_json|partial_image_b64)"\s*:\s*")([A-Za-z0-9+/=\\]{64,})("?)')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MESSAGE_KEYS = ("message", "msg", "detail")


@dataclass(frozen=True)
class ImagesCall:
    """One request to the images API, ready to send."""

    url: str
    fields: dict[str, str | int | bool]  # the JSON body, or the form's text fields
    # (field name, (file name, bytes, content type)) for each file part; none for generations
    files: list[tuple[str, tuple[str, bytes, str]]] = field(default_factory=list)
    stream: bool = False
    output_format: str = "png"  # what a b64_json result is, unless the reply says otherwise

    @property
    def is_form(self) -> bool:
        return bool(self.files)


class ImagesTransport:
    """Edits and generations through the images API; results as data: URIs or links."""

    def __init__(self, config: GatewayConfig):
        self.config = config

    def send(
        self,
        request: ImageRequest,
        on_progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> Outcome:
        call = build_call(self.config, request)
        return send_call(self.config, call, on_progress, client, wanted=request.options.n)


def streams(model: str) -> bool:
    name = model.strip().lower()
    return any(fnmatchcase(name, pattern) for pattern in STREAMING_MODELS)


def takes_input_fidelity(model: str) -> bool:
    name = model.strip().lower()
    return any(fnmatchcase(name, pattern) for pattern in INPUT_FIDELITY_MODELS)


# OpenAI's gpt-image-1 family takes three sizes only (and "auto"); any other is refused with a
# 400, so a wide or tall ask goes as the nearest of them. Other models take the size as asked.
FIXED_SIZE_MODELS = ("gpt-image-1*",)
LANDSCAPE, PORTRAIT, SQUARE = "1536x1024", "1024x1536", "1024x1024"


def size_for(model: str, size: str) -> str:
    """The images API's `size` for an asked size: pixels, as the model takes them."""
    pixels = pixels_for(size)
    name = model.strip().lower()
    if not any(fnmatchcase(name, pattern) for pattern in FIXED_SIZE_MODELS):
        return pixels
    width, height = pixel_size(pixels) or (1, 1)
    if width > height * 1.1:
        return LANDSCAPE
    if height > width * 1.1:
        return PORTRAIT
    return SQUARE


def build_call(config: GatewayConfig, request: ImageRequest) -> ImagesCall:
    """The request for `request`: an edit of its pictures, or a generation from the words."""
    options = request.options
    fields: dict[str, str | int | bool] = {"prompt": request.instruction, "model": request.model}
    if options.n > 1:
        fields["n"] = options.n
    if options.size:
        fields["size"] = size_for(request.model, options.size)
    if options.quality:
        fields["quality"] = options.quality
    extra = config.extra_body
    for name in DEPLOYMENT_FIELDS:
        if _is_field_value(extra.get(name)):
            fields[name] = extra[name]
    stream = config.stream and streams(request.model)
    if stream:
        fields["stream"] = True
        fields["partial_images"] = PARTIAL_IMAGES
    output_format = _FORMAT_TYPES.get(str(extra.get("output_format", "")).lower(), "png")
    if not request.pictures:
        return ImagesCall(
            f"{config.api_root}/images/generations",
            fields,
            stream=stream,
            output_format=output_format,
        )
    # input_fidelity is about how closely the input pictures are kept, so edits only.
    if takes_input_fidelity(request.model) and _is_field_value(extra.get("input_fidelity")):
        fields["input_fidelity"] = extra["input_fidelity"]
    files = [
        ("image[]", (f"image-{number}.{_extension(p.content_type)}", p.data, p.content_type))
        for number, p in enumerate(request.pictures, start=1)
    ]
    if request.mask is not None:
        files.append(("mask", ("mask.png", request.mask, "image/png")))
    form = {name: _form_value(value) for name, value in fields.items()}
    return ImagesCall(f"{config.api_root}/images/edits", dict(form), files, stream, output_format)


def _is_field_value(value: object) -> bool:
    return isinstance(value, (str, int, float)) and value != ""


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "png")


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def send_call(
    config: GatewayConfig,
    call: ImagesCall,
    on_progress: ProgressCallback | None = None,
    client: httpx.Client | None = None,
    *,
    wanted: int = 1,
) -> Outcome:
    """Send one images API request and read the reply to its end.

    Returns the reply (which may itself carry a failure: a refusal, a lost picture); raises
    GatewayFailure when the gateway could not be reached or answered with an error. Some
    gateways quote the key back in their errors; it is cut out of everything returned.
    """
    return keeping_key_out(
        config.api_key, lambda: _send_once(config, call, on_progress, client, wanted)
    )


def _send_once(
    config: GatewayConfig,
    call: ImagesCall,
    on_progress: ProgressCallback | None,
    client: httpx.Client | None,
    wanted: int,
) -> Outcome:
    reading = _Reading(call, http.deadline_after(config.total_timeout), on_progress, wanted)
    headers = {"Authorization": f"Bearer {config.api_key}", **http.reply_headers(call.stream)}
    try:
        with (
            http.reaching(config, client) as client,
            _open(client, call, headers, http.timeouts(config)) as response,
        ):
            reading.read(response)
    except http.TIMED_OUT as exc:
        if kept := reading.partial_outcome():
            return kept
        # Once a successful reply began, the picture is being made and may be paid for:
        # never asked for again. Silence before any answer made nothing.
        raise http.timed_out(
            config, exc, reading.raw(), silent=not reading.began, output_started=reading.began
        ) from None
    except http.DROPPED as exc:
        # Pictures already received (a stream of several) are still good.
        if kept := reading.partial_outcome():
            return kept
        # Closed before a successful reply began, nothing was made: it may be asked again.
        raise http.connection_closed(
            exc,
            reading.raw(),
            where="mid-reply" if reading.began else "before any reply",
            retryable=not reading.began,
            output_started=reading.began,
        ) from None
    return reading.outcome()


def _open(
    client: httpx.Client, call: ImagesCall, headers: dict[str, str], timeout: httpx.Timeout
) -> AbstractContextManager[httpx.Response]:
    if call.is_form:
        return client.stream(
            "POST", call.url, data=call.fields, files=call.files, headers=headers, timeout=timeout
        )
    return client.stream("POST", call.url, json=call.fields, headers=headers, timeout=timeout)


class _Reading:
    """One reply being read: the pictures found, the usage, what was said, the deadline."""

    def __init__(
        self,
        call: ImagesCall,
        deadline: float,
        on_progress: ProgressCallback | None,
        wanted: int,
    ):
        self.call = call
        self.deadline = deadline
        self.on_progress = on_progress
        self.wanted = max(1, wanted)
        self.began = False  # a successful (2xx) reply had begun to arrive
        self.images: list[str] = []
        self.usage: dict = {}
        self.error: Mapping | None = None
        self._raw: list[str] = []
        self._raw_size = 0

    def read(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        status = response.status_code
        if status >= 400:
            body = http.read_capped(response, ERROR_BODY_LIMIT, self.deadline)
            self._keep_raw(body)
            raise GatewayFailure(
                classify_http_error(status, body, content_type),
                self.raw(),
                retryable=status in TRANSIENT_STATUSES,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                status=status,
            )
        self.began = True
        # Whatever was asked, a JSON reply is read as one (relays that do not stream these).
        if "text/event-stream" in content_type.lower():
            self._report(ParsedReply([], "generating", None, None))
            self._read_stream(response)
            return
        body = http.read_capped(response, REPLY_BODY_LIMIT, self.deadline)
        self._keep_raw(body)
        try:
            parsed = json.loads(body)
        except ValueError:
            raise GatewayFailure(
                classify_http_error(status, body, content_type), self.raw()
            ) from None
        if not isinstance(parsed, dict):
            raise GatewayFailure(
                Failure("gateway_error", "the reply is not a JSON object"), self.raw()
            )
        self._take_reply(parsed)
        if not self.images and _is_error_envelope(parsed):
            # An error inside a 200: the gateway's words, classified as if it were an HTTP error.
            raise GatewayFailure(classify_http_error(status, body, content_type), self.raw())

    def _take_reply(self, reply: Mapping) -> None:
        """A whole response: {"created", "data": [{b64_json or url, revised_prompt}], usage}."""
        output_format = reply.get("output_format")
        for item in reply.get("data") or ():
            if isinstance(item, Mapping):
                self._take_image(item, output_format)
        self._take_usage(reply.get("usage"))

    def _read_stream(self, response: httpx.Response) -> None:
        for event, data in iter_sse_events(http.lines_until(response, self.deadline)):
            self._keep_raw(data)
            try:
                chunk = json.loads(data)
            except ValueError:
                continue  # a stray non-JSON event says nothing about the result
            if not isinstance(chunk, dict):
                continue
            kind = str(chunk.get("type") or event)
            if kind == "error" or chunk.get("error"):
                self.error = _error_of(chunk)
                self._report(self._result())
            elif kind.endswith(".partial_image"):
                self._report(ParsedReply(list(self.images), "generating", None, None))
            elif kind.endswith(".completed"):
                self._take_image(chunk, chunk.get("output_format"))
                # Which completed event of several (n > 1) carries the whole usage is not
                # documented; the last one that has any is kept, never a sum that could double.
                self._take_usage(chunk.get("usage"))
                done = len(self.images) >= self.wanted
                stage, progress = ("done", 100) if done else ("generating", None)
                self._report(ParsedReply(list(self.images), stage, progress, None))
            elif isinstance(chunk.get("data"), list):
                self._take_reply(chunk)  # a relay sending the whole response as one event

    def _take_image(self, item: Mapping, output_format: object) -> None:
        encoded, link = item.get("b64_json"), item.get("url")
        if isinstance(encoded, str) and encoded.strip():
            self.images.append(self._data_uri(encoded, output_format))
        elif isinstance(link, str) and link.strip():
            self.images.append(link.strip())  # downloaded by the worker, through gateway.fetch

    def _data_uri(self, encoded: str, output_format: object) -> str:
        encoded = re.sub(r"\s+", "", encoded)
        if encoded.startswith("data:"):
            return encoded  # some relays already give the whole data URI
        # What the bytes are wins over what was asked for or said (a relay re-encoding them).
        kind = next((kind for head, kind in _SIGNATURES if encoded.startswith(head)), None)
        kind = kind or _FORMAT_TYPES.get(str(output_format or "").lower(), self.call.output_format)
        return f"data:image/{kind};base64,{encoded}"

    def _take_usage(self, usage: object) -> None:
        if isinstance(usage, Mapping) and usage:
            self.usage = dict(usage)

    def _report(self, reply: ParsedReply) -> None:
        if self.on_progress:
            self.on_progress(reply)

    def _keep_raw(self, text: str) -> None:
        """The reply for the record, each piece as it comes, with its pictures cut out."""
        if self._raw_size > RAW_REPLY_LIMIT:
            return
        kept = elide_data_uris(_B64_FIELD.sub(_elided_field, text))[:RAW_REPLY_LIMIT]
        self._raw.append(kept)
        self._raw_size += len(kept) + 1

    def raw(self) -> str:
        return "\n".join(self._raw)[:RAW_REPLY_LIMIT]

    def partial_outcome(self) -> Outcome | None:
        return self.outcome() if self.images else None

    def outcome(self) -> Outcome:
        return Outcome(self._result(), self.raw(), self.usage)

    def _result(self) -> ParsedReply:
        if self.images:
            return ParsedReply(list(self.images), "done", 100, None)
        if self.error:
            # An error event in a 200 stream: classified as the chat transport does an error
            # chunk ("upstream_error" unless its words say more).
            found = classify_http_error(0, json.dumps({"error": self.error}, ensure_ascii=False))
            return ParsedReply([], None, None, found)
        output_tokens = self.usage.get("output_tokens")
        if isinstance(output_tokens, int) and output_tokens > 0:
            # Output was billed, yet no picture came back: the gateway lost it.
            detail = f"usage.output_tokens: {output_tokens}, no image in the reply"
            return ParsedReply([], None, None, Failure("picture_lost", detail))
        # Neither a picture nor an error nor billed output: the model made nothing. (The
        # images API says why in an error; a revised_prompt alone is not a reason.)
        return ParsedReply([], None, None, Failure("refused", "", "empty"))


def iter_sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event name, data) of each server-sent event, up to a `[DONE]` sentinel if one comes.

    The images API names its events twice, in `event:` and in the data's "type"; the name is
    kept for relays that send only the first.
    """
    event, data = "", []
    for chunk in lines:
        for line in _LINE_BREAK.split(chunk.removesuffix("\n").removesuffix("\r")):
            if line.startswith(":"):
                continue  # a comment, e.g. a keep-alive
            if line:
                name, _colon, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                elif name == "event":
                    event = value
                continue
            if data:
                payload = "\n".join(data)
                if payload.strip() == "[DONE]":
                    return
                yield event, payload
            event, data = "", []
    if data and "\n".join(data).strip() != "[DONE]":
        yield event, "\n".join(data)


def _is_error_envelope(reply: Mapping) -> bool:
    """{"error": …}, or a relay's {"code": …, "message": …} with no data, in a 200 reply."""
    if reply.get("error"):
        return True
    return not reply.get("data") and any(reply.get(key) for key in _MESSAGE_KEYS)


def _error_of(chunk: Mapping) -> Mapping:
    """The error of an error event: {"type": "error", "error": {…}} or the event itself."""
    inner = chunk.get("error")
    if isinstance(inner, Mapping):
        return inner
    if isinstance(inner, str):
        return {"message": inner}
    return {key: value for key, value in chunk.items() if key != "type"} or {"message": "error"}


def _elided_field(match: re.Match[str]) -> str:
    size = len(re.sub(r"[^A-Za-z0-9+/]", "", match[2])) * 3 // 4
    return f"{match[1]}<{size} bytes>{match[3]}"
