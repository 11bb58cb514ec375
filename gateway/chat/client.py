"""The chat transport: one request to an OpenAI-compatible `POST /v1/chat/completions`.

Builds the request of the API card, reads a streamed (SSE) or plain JSON reply into a
ReplyAccumulator, reports progress as it comes, and turns every way of failing into a Failure.
"""

import json
import logging
import time
from collections.abc import Sequence

import httpx

from .. import fetch, http
from ..config import GatewayConfig
from ..failures import Failure, GatewayFailure
from ..http import ERROR_BODY_LIMIT, REPLY_BODY_LIMIT, USER_AGENT
from ..masks import visible_mask, with_mask_sentence
from ..options import DEFAULT, DEFAULT_STYLE, RATIOS, ModelStyle, RequestOptions, pixels_for
from ..retries import TRANSIENT_STATUSES, parse_retry_after
from ..transport import ImageRequest, Outcome, Picture, ProgressCallback, keeping_key_out
from .body import JsonWithPictures
from .errors import classify_http_error, elide_data_uris
from .reply import ReplyAccumulator
from .sse import iter_sse_data

logger = logging.getLogger(__name__)

# USER_AGENT, ERROR_BODY_LIMIT and REPLY_BODY_LIMIT are gateway.http's, shared by the transports.
RAW_REPLY_LIMIT = 256 * 2**10
PROGRESS_INTERVAL = 0.4  # seconds between progress reports while streaming


class ChatTransport:
    """Pictures go as data: URLs in the user message; results come back as links in the text.

    A mask goes as one more picture after the others (white where to change), and the
    instruction says what it is; the parameter block, if any, stays last, where resellers
    read it.
    """

    def __init__(self, config: GatewayConfig):
        self.config = config

    def send(
        self,
        request: ImageRequest,
        on_progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> Outcome:
        pictures = list(request.pictures)
        instruction = request.instruction
        # A mask belongs to the first picture: with none to go with, it would only confuse.
        if request.mask is not None and pictures:
            pictures.append(Picture(visible_mask(request.mask), "image/png"))
            instruction = with_mask_sentence(instruction)
        # The data: URLs are written as the body goes out, from the pictures' files: the
        # request holds no base64 of them while the gateway works (gateway/chat/body.py).
        body = JsonWithPictures(pictures)
        payload = build_payload(
            self.config,
            model=request.model,
            instruction=instruction,
            image_urls=[body.url_for(index) for index in range(len(pictures))],
            options=request.options,
            style=request.style,
        )
        return request_edit(self.config, body.encode(payload), on_progress, client)


def build_payload(
    gateway: GatewayConfig,
    *,
    model: str,
    instruction: str,
    image_urls: Sequence[str],
    options: RequestOptions = DEFAULT,
    style: ModelStyle = DEFAULT_STYLE,
) -> dict:
    """The request body of the API card: one text part, one image_url part per picture; the
    options where the model's style says it reads them (the text, or fields of the body)."""
    content: list[dict] = [{"type": "text", "text": with_parameters(instruction, options, style)}]
    content += [
        {"type": "image_url", "image_url": {"url": url, "detail": gateway.image_detail}}
        for url in image_urls
    ]
    payload: dict = {
        "model": model,
        "stream": gateway.stream,
        "messages": [{"role": "user", "content": content}],
    }
    if gateway.max_tokens:
        payload["max_tokens"] = gateway.max_tokens
    payload.update(gateway.extra_body)
    # What this edit asked for wins over the deployment's GAITU_EXTRA_BODY: that is a default
    # for every request (say, a quality), this a person's choice for one. An image_config of
    # both is merged, so the deployment's other keys in it (an image_size) still go.
    for key, value in option_fields(options, style).items():
        if isinstance(value, dict) and isinstance(payload.get(key), dict):
            value = {**payload[key], **value}
        payload[key] = value
    return payload


def with_parameters(instruction: str, options: RequestOptions, style: ModelStyle) -> str:
    """The instruction, with the parameter block resellers read after it on its own line
    ({"ratio": "16:9", "n": 2}, the way they echo it back) when the model takes options there."""
    parameters: dict[str, object] = {}
    if style.size == "prompt" and options.size:
        parameters["ratio" if options.size in RATIOS else "size"] = options.size
    if style.n == "prompt" and options.n > 1:
        parameters["n"] = options.n
    if not parameters:
        return instruction
    return f"{instruction}\n{json.dumps(parameters, ensure_ascii=False)}"


def option_fields(options: RequestOptions, style: ModelStyle) -> dict:
    """The body's fields for the options the model reads there.

    n is sent only when the model makes several pictures in one request; a "parallel" model
    is sent one request per picture by the caller (worker/run.py), each asking for one.
    """
    fields: dict[str, object] = {}
    if options.size and style.size == "size":
        fields["size"] = pixels_for(options.size)
    elif options.size and style.size == "aspect_ratio":
        fields["image_config"] = {"aspect_ratio": options.ratio}
    if style.n == "n" and options.n > 1:
        fields["n"] = options.n
    if style.quality and options.quality:
        fields["quality"] = options.quality
    return fields


def failure(code: str, detail: str = "") -> Failure:
    return Failure(code, detail)


def request_edit(
    gateway: GatewayConfig,
    payload: "dict | JsonWithPictures",
    on_progress: ProgressCallback | None = None,
    client: httpx.Client | None = None,
) -> Outcome:
    """Send one chat-edit request and read the reply to its end.

    Returns the parsed reply (which may itself carry a failure, e.g. a refusal); raises
    GatewayFailure when the gateway could not be reached or answered with an error. Some
    gateways quote the key back in their errors; it is cut out of everything kept.
    """
    return keeping_key_out(
        gateway.api_key, lambda: _request_once(gateway, payload, on_progress, client)
    )


def _request_once(
    gateway: GatewayConfig,
    payload: "dict | JsonWithPictures",
    on_progress: ProgressCallback | None,
    client: httpx.Client | None,
) -> Outcome:
    reading = _Reading(ReplyAccumulator(), http.deadline_after(gateway.total_timeout), on_progress)
    headers = {"Authorization": f"Bearer {gateway.api_key}", **http.reply_headers(gateway.stream)}
    streamed = payload if isinstance(payload, JsonWithPictures) else None
    if streamed is not None:
        headers.update(streamed.headers)
    try:
        with (
            http.reaching(gateway, client) as client,
            client.stream(
                "POST",
                gateway.completions_url,
                content=streamed,
                json=None if streamed is not None else payload,
                headers=headers,
                timeout=http.timeouts(gateway),
            ) as response,
        ):
            reading.read(response)
    except http.TIMED_OUT as exc:
        if kept := reading.partial_outcome():
            return kept
        if reading.accumulator.error:  # what the gateway said went wrong, before it went quiet
            raise _in_band_failure(reading.accumulator, reading.outcome()) from None
        raise http.timed_out(
            gateway,
            exc,
            reading.raw(),
            silent=not reading.received,  # silent from the start: nothing was generated
            output_started=reading.output_started,
        ) from None
    except http.DROPPED as exc:
        # The connection dropped mid-reply: images already received are still good.
        if kept := reading.partial_outcome():
            return kept
        if reading.accumulator.error:  # e.g. OpenRouter's error chunk, then the line cut
            raise _in_band_failure(reading.accumulator, reading.outcome()) from None
        raise http.connection_closed(
            exc, reading.raw(), output_started=reading.output_started
        ) from None
    outcome = reading.outcome()
    if reading.accumulator.failed_in_band and not outcome.reply.images:
        raise _in_band_failure(reading.accumulator, outcome)
    return outcome


def _in_band_failure(accumulator: ReplyAccumulator, outcome: Outcome) -> GatewayFailure:
    """An error the gateway sent inside its 200 reply, raised as the HTTP errors are.

    Before the model said anything it is the same as an HTTP error, and another provider
    may take the request; after, the generation may be paid for.
    """
    problem = outcome.reply.failure or failure("upstream_error")
    started = accumulator.error_after_output if accumulator.error else accumulator.has_output
    relay_status = (accumulator.error or {}).get("status_code")
    transient = problem.code == "rate_limited" or (
        isinstance(relay_status, int) and relay_status in TRANSIENT_STATUSES
    )
    return GatewayFailure(
        problem, outcome.raw_text, retryable=transient and not started, output_started=started
    )


class _Reading:
    """One reply being read: the accumulator, the deadline, how much has arrived."""

    def __init__(
        self,
        accumulator: ReplyAccumulator,
        deadline: float,
        on_progress: ProgressCallback | None,
    ):
        self.accumulator = accumulator
        self.deadline = deadline
        self.on_progress = on_progress
        self.received = 0
        self.status = 0

    @property
    def output_started(self) -> bool:
        """Whether a reply body had begun to arrive: the model was answering (or working, as
        OpenRouter's keep-alives say), so what it made may be paid for."""
        return 200 <= self.status < 300 and self.received > 0

    def read(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        self.status = response.status_code
        if response.status_code >= 400:
            body = http.read_capped(response, ERROR_BODY_LIMIT, self.deadline, self._count_received)
            raise GatewayFailure(
                classify_http_error(response.status_code, body, content_type),
                retryable=response.status_code in TRANSIENT_STATUSES,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                status=response.status_code,
            )
        if "text/event-stream" in content_type:
            self._read_stream(response)
            return
        body = http.read_capped(response, REPLY_BODY_LIMIT, self.deadline, self._count_received)
        try:
            parsed = json.loads(body)
        except ValueError:
            raise GatewayFailure(
                classify_http_error(response.status_code, body, content_type)
            ) from None
        if not isinstance(parsed, dict):
            raise GatewayFailure(failure("gateway_error", "the reply is not a JSON object"))
        # An error object instead of choices is raised after reading, as one in a stream is.
        self.accumulator.feed_completion(parsed)

    def _read_stream(self, response: httpx.Response) -> None:
        last_report = 0.0
        for data in iter_sse_data(http.lines_until(response, self.deadline, self._count_received)):
            try:
                chunk = json.loads(data)
            except ValueError:
                continue  # a stray non-JSON event says nothing about the result
            if isinstance(chunk, dict):
                self.accumulator.feed_chunk(chunk)
            # Parsing the accumulated text costs more as it grows (data: URIs run to MBs),
            # so progress is looked at a few times a second, not on every dot.
            now = time.monotonic()
            if self.on_progress and now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                self.on_progress(self.accumulator.result(complete=False))

    def _count_received(self, size: int) -> None:
        self.received += size

    def partial_outcome(self) -> Outcome | None:
        outcome = self.outcome()
        return outcome if outcome.reply.images else None

    def outcome(self) -> Outcome:
        return Outcome(self.accumulator.result(complete=True), self.raw(), self.accumulator.usage)

    def raw(self) -> str:
        """What the gateway said, for the record: the reasoning (where some bridges put their
        status), the text, and the error object of an error sent in the reply."""
        said = [self.accumulator.text]
        if self.accumulator.reasoning:
            said.insert(0, f"{self.accumulator.reasoning}\n")
        if self.accumulator.error:
            error = json.dumps(self.accumulator.error, ensure_ascii=False, default=str)
            said.append(f"\n[error] {error}")
        return elide_data_uris("".join(said))[:RAW_REPLY_LIMIT]


def list_models(gateway: GatewayConfig, timeout: float = 3.0) -> list[str]:
    """The model ids the gateway says it serves (GET /v1/models); [] when it won't say."""
    try:
        with httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY, timeout=timeout) as client:
            response = client.get(
                f"{gateway.api_root}/models",
                headers={"Authorization": f"Bearer {gateway.api_key}", "User-Agent": USER_AGENT},
            )
            response.raise_for_status()
            listed = response.json().get("data", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return sorted({str(item["id"]) for item in listed if isinstance(item, dict) and "id" in item})
