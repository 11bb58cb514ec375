"""The Gemini transport: one request to Gemini's own `models/{model}:generateContent`.

Pictures go as inlineData parts after the instruction; results come back as inlineData parts
(or fileData links), read by gateway.gemini.reply. Streamed (`:streamGenerateContent?alt=sse`)
each server-sent event is a whole GenerateContentResponse carrying the next parts.
"""

import base64
import json
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx

from .. import http
from ..chat.sse import iter_sse_data
from ..config import GatewayConfig
from ..failures import Failure, GatewayFailure
from ..http import ERROR_BODY_LIMIT, REPLY_BODY_LIMIT
from ..masks import visible_mask, with_mask_sentence
from ..retries import TRANSIENT_STATUSES, parse_retry_after
from ..transport import ImageRequest, Outcome, ParsedReply, ProgressCallback, keeping_key_out
from .reply import GeminiReply, classify_error, error_status, nearest_ratio

PROGRESS_INTERVAL = 0.4  # seconds between progress reports while streaming

# The aspect ratios Gemini's image models take (imageConfig.aspectRatio); any other is a 400.
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# The fields of a deployment's extra body that Gemini's request has too. That body is written
# for chat requests ("quality", "image_config"...), whose fields Gemini answers with a 400
# "Unknown name"; these few mean the same here and are passed on.
GEMINI_BODY_FIELDS = ("generationConfig", "safetySettings", "systemInstruction")


class GeminiTransport:
    def __init__(self, config: GatewayConfig):
        self.config = config

    def send(
        self,
        request: ImageRequest,
        on_progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> Outcome:
        body = build_body(self.config, request)
        return keeping_key_out(
            self.config.api_key,
            lambda: _request_once(self.config, request.model, body, on_progress, client),
        )


def build_body(config: GatewayConfig, request: ImageRequest) -> dict:
    """The generateContent request: the instruction, then each picture, then the mask."""
    instruction = request.instruction
    pictures = [(p.data, p.content_type) for p in request.pictures]
    if request.mask is not None:
        # Gemini reads no mask; it is shown one, after the pictures, and told what it is.
        pictures.append((visible_mask(request.mask), "image/png"))
        instruction = with_mask_sentence(instruction)
    parts: list[dict] = [{"text": instruction}]
    parts += [
        {"inlineData": {"mimeType": kind, "data": base64.b64encode(data).decode("ascii")}}
        for data, kind in pictures
    ]
    generation: dict = {"responseModalities": ["TEXT", "IMAGE"]}
    options, style = request.options, request.style
    # Gemini's own API takes a size one way only, as an aspect ratio, so whichever way the
    # model's style names for chat requests (a block in the prompt, a pixel size), a size
    # asked for goes here; a pixel size as the nearest ratio Gemini knows. A "none" style
    # offers no size, and one that came anyway is not sent.
    if options.size and style.size != "none":
        generation["imageConfig"] = {"aspectRatio": nearest_ratio(options.ratio, ASPECT_RATIOS)}
    # Gemini's image models make one picture a request, and refuse candidateCount above 1;
    # the worker sends them one request per picture (style n "parallel"). Only a model whose
    # owner said it makes several in one request is asked for candidates.
    if style.n == "n" and options.n > 1:
        generation["candidateCount"] = options.n
    # config.max_tokens is not sent: it is sized for chat replies' words, and one picture
    # alone costs about 1,290 output tokens, so it would cut every picture off.
    body: dict = {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation}
    for field in GEMINI_BODY_FIELDS:
        extra = config.extra_body.get(field)
        if extra is None:
            continue
        if field == "generationConfig" and isinstance(extra, dict):
            # What this request asked for wins over the deployment's defaults, which still
            # fill in the rest (an imageConfig.imageSize beside the aspect ratio).
            merged = {**extra, **generation}
            if isinstance(extra.get("imageConfig"), dict) and "imageConfig" in generation:
                merged["imageConfig"] = {**extra["imageConfig"], **generation["imageConfig"]}
            body[field] = merged
        else:
            body[field] = extra
    return body


def request_url(config: GatewayConfig, model: str) -> str:
    """The method's URL, without its query (?alt=sse, and the key when it goes there)."""
    name = quote(model.strip().removeprefix("models/"), safe="")
    method = "streamGenerateContent" if config.stream else "generateContent"
    return f"{config.gemini_root}/models/{name}:{method}"


def _request_once(
    config: GatewayConfig,
    model: str,
    body: dict,
    on_progress: ProgressCallback | None,
    client: httpx.Client | None,
) -> Outcome:
    reading = _Reading(http.deadline_after(config.total_timeout), on_progress)
    headers = http.reply_headers(config.stream)
    # Without alt=sse, streamGenerateContent answers with one JSON array at the end.
    params = {"alt": "sse"} if config.stream else {}
    if config.gemini_key_in == "query":
        params["key"] = config.api_key
    else:
        headers["x-goog-api-key"] = config.api_key
    # The URL (which may hold the key) goes into no message below: the failures name what
    # happened, not where.
    try:
        with (
            http.reaching(config, client) as client,
            client.stream(
                "POST",
                request_url(config, model),
                params=params,
                json=body,
                headers=headers,
                timeout=http.timeouts(config),
            ) as response,
        ):
            reading.read(response)
    except http.TIMED_OUT as exc:
        if kept := reading.partial_outcome():
            return kept
        started = reading.started
        # Silent from the start, nothing was generated and asking again costs nothing.
        raise http.timed_out(
            config, exc, reading.raw(), silent=not started, output_started=started
        ) from None
    except http.DROPPED as exc:
        # The connection dropped mid-reply: pictures already received are still good.
        if kept := reading.partial_outcome():
            return kept
        raise http.connection_closed(exc, reading.raw(), output_started=reading.started) from None
    except httpx.HTTPError as exc:
        raise GatewayFailure(Failure("connection_failed", http.describe(exc))) from None
    return reading.outcome()


class _Reading:
    """One reply being read: what it said so far, the deadline, whether its body began."""

    def __init__(self, deadline: float, on_progress: ProgressCallback | None):
        self.reply = GeminiReply()
        self.deadline = deadline
        self.on_progress = on_progress
        # Whether a successful reply's body had begun to arrive: from then on the model was
        # answering, and a failure may have been paid for.
        self.started = False

    def read(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400:
            body = http.read_capped(response, ERROR_BODY_LIMIT, self.deadline)
            problem, delay = classify_error(response.status_code, body, content_type)
            header_delay = parse_retry_after(response.headers.get("retry-after"))
            raise GatewayFailure(
                problem,
                _error_record(body),
                retryable=response.status_code in TRANSIENT_STATUSES,
                retry_after=header_delay if header_delay is not None else delay,
                status=response.status_code,
            )
        if "text/event-stream" in content_type:
            # Even a keep-alive says the model is at work on this request by now.
            self._feed_events(http.lines_until(response, self.deadline, self._mark_started))
        else:
            body = http.read_capped(response, REPLY_BODY_LIMIT, self.deadline, self._mark_started)
            if body.lstrip().startswith(("data:", ":")):  # a stream not labelled as one
                self._feed_events(iter(body.splitlines()))
            else:
                self._feed_body(response, body, content_type)
        self._raise_error_event()

    def _feed_body(self, response: httpx.Response, body: str, content_type: str) -> None:
        try:
            parsed = json.loads(body)
        except ValueError:
            if body.lstrip().startswith(("{", "[")):
                # Half a reply: cut off, or past the size limit. Its base64 is no detail.
                problem = Failure("gateway_error", "the reply broke off, or is too large")
                started = True
            else:  # a page from a proxy in front, not the model's answer
                problem, _delay = classify_error(response.status_code, body, content_type)
                started = False
            raise GatewayFailure(
                problem, _error_record(body[:ERROR_BODY_LIMIT]), output_started=started
            ) from None
        if not isinstance(parsed, dict | list):
            raise GatewayFailure(Failure("gateway_error", "the reply is not a JSON object"))
        self.reply.feed(parsed)

    def _feed_events(self, lines: Iterator[str]) -> None:
        last_report, told = 0.0, ParsedReply([], None, None, None)
        for data in iter_sse_data(lines):
            try:
                event = json.loads(data)
            except ValueError:
                continue  # a stray non-JSON event says nothing about the result
            self.reply.feed(event)
            if not self.on_progress:
                continue
            # A new stage or a picture is news worth telling at once; more words are told
            # a few times a second at most.
            now = time.monotonic()
            progress = self.reply.result(complete=False)
            news = progress.stage != told.stage or len(progress.images) > len(told.images)
            if news or now - last_report >= PROGRESS_INTERVAL:
                last_report, told = now, progress
                self._report(progress)

    def _report(self, progress: ParsedReply) -> None:
        if self.on_progress and progress.stage:
            self.on_progress(progress)

    def _raise_error_event(self) -> None:
        """An error object in a successful reply (a stream's last event, or the whole body)."""
        error = self.reply.error
        if error is None or self.reply.images:
            return
        status = error_status(error)
        problem, _delay = classify_error(status, json.dumps({"error": error}))
        # Errors the gateway met before the model gave anything (Google sends those as the
        # first event once a stream's headers are out) are as good as an error status:
        # nothing was generated, and another provider may be asked.
        answered = self.reply.answered
        raise GatewayFailure(
            problem,
            self.raw(),
            retryable=not answered and status in TRANSIENT_STATUSES,
            status=status,
            output_started=answered,
        )

    def _mark_started(self, _size: int) -> None:
        self.started = True

    def partial_outcome(self) -> Outcome | None:
        outcome = self.outcome()
        return outcome if outcome.reply.images else None

    def outcome(self) -> Outcome:
        return Outcome(self.reply.result(complete=True), self.raw(), self.reply.usage)

    def raw(self) -> str:
        return self.reply.raw()


def _error_record(body: str) -> str:
    """An error body as kept: trimmed, any base64 picture in it elided."""
    probe = GeminiReply()
    try:
        probe.feed(json.loads(body))
    except ValueError:
        return body[:ERROR_BODY_LIMIT]
    return probe.raw() or body[:ERROR_BODY_LIMIT]
