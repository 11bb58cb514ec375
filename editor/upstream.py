"""The chat-edit client: one request to an OpenAI-compatible gateway, read to its end.

Builds the request of the API card, reads a streamed (SSE) or plain JSON reply into a
ReplyAccumulator, reports progress as it comes, and turns every way of failing into a Failure.
"""

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import httpx

from .reply import (
    FAILURE_CODES,
    Failure,
    ParsedReply,
    ReplyAccumulator,
    classify_http_error,
    elide_data_uris,
    iter_sse_data,
)

logger = logging.getLogger(__name__)

USER_AGENT = "Gaitu/1.0"
ERROR_BODY_LIMIT = 64 * 2**10
REPLY_BODY_LIMIT = 96 * 2**20  # a non-streamed reply may carry several MB of base64 images
RAW_REPLY_LIMIT = 256 * 2**10
PROGRESS_INTERVAL = 0.4  # seconds between progress reports while streaming


@dataclass(frozen=True)
class Gateway:
    base_url: str
    api_key: str = field(repr=False)  # never in a repr, so never in a log line
    stream: bool = True
    max_tokens: int | None = None
    image_detail: str = "high"
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    total_timeout: float = 600.0
    extra_body: dict = field(default_factory=dict)

    @property
    def completions_url(self) -> str:
        return f"{api_root(self.base_url)}/chat/completions"


def api_root(base_url: str) -> str:
    """The gateway's /v1 root, whether the base was given with or without it."""
    root = base_url.strip().rstrip("/")
    return root if root.endswith("/v1") else f"{root}/v1"


def data_url(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def build_payload(
    gateway: Gateway, *, model: str, instruction: str, image_urls: Sequence[str]
) -> dict:
    """The request body of the API card: one text part, one image_url part per picture."""
    content: list[dict] = [{"type": "text", "text": instruction}]
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
    return payload


class UpstreamFailure(Exception):
    def __init__(self, failure: Failure, raw_text: str = ""):
        super().__init__(failure.code)
        self.failure = failure
        self.raw_text = raw_text


def failure(code: str, detail: str = "") -> Failure:
    return Failure(code, FAILURE_CODES[code], detail)


@dataclass
class Outcome:
    reply: ParsedReply
    raw_text: str
    usage: dict


class _DeadlinePassed(Exception):
    pass


def request_edit(
    gateway: Gateway,
    payload: dict,
    on_progress: Callable[[ParsedReply], None] | None = None,
    client: httpx.Client | None = None,
) -> Outcome:
    """Send one chat-edit request and read the reply to its end.

    Returns the parsed reply (which may itself carry a failure, e.g. a refusal); raises
    UpstreamFailure when the gateway could not be reached or answered with an error.
    """
    own_client = client is None
    client = client or httpx.Client(trust_env=False)
    accumulator = ReplyAccumulator()
    deadline = time.monotonic() + gateway.total_timeout
    timeout = httpx.Timeout(
        connect=gateway.connect_timeout,
        read=gateway.read_timeout,
        write=gateway.read_timeout,
        pool=gateway.connect_timeout,
    )
    headers = {
        "Authorization": f"Bearer {gateway.api_key}",
        "Accept": "text/event-stream" if gateway.stream else "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        with client.stream(
            "POST", gateway.completions_url, json=payload, headers=headers, timeout=timeout
        ) as response:
            _read_response(response, accumulator, deadline, on_progress)
    except httpx.ConnectTimeout:
        raise UpstreamFailure(failure("timeout", "could not connect in time")) from None
    except httpx.ConnectError as exc:
        raise UpstreamFailure(failure("connection_failed", _describe(exc))) from None
    except (httpx.TimeoutException, _DeadlinePassed) as exc:
        kept = _partial_outcome(accumulator)
        if kept:
            return kept
        reason = f"no data for {gateway.read_timeout:g} s"
        if isinstance(exc, _DeadlinePassed):
            reason = f"no complete reply within {gateway.total_timeout:g} s"
        raise UpstreamFailure(failure("timeout", reason), _raw(accumulator)) from None
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        # The connection dropped mid-reply: images already received are still good.
        kept = _partial_outcome(accumulator)
        if kept:
            return kept
        raise UpstreamFailure(
            failure("connection_failed", f"connection closed mid-reply ({_describe(exc)})"),
            _raw(accumulator),
        ) from None
    finally:
        if own_client:
            client.close()
    return Outcome(accumulator.result(complete=True), _raw(accumulator), accumulator.usage)


def _read_response(
    response: httpx.Response,
    accumulator: ReplyAccumulator,
    deadline: float,
    on_progress: Callable[[ParsedReply], None] | None,
) -> None:
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400:
        body = _read_capped(response, ERROR_BODY_LIMIT, deadline)
        raise UpstreamFailure(classify_http_error(response.status_code, body, content_type))
    if "text/event-stream" in content_type:
        last_report = 0.0
        for data in iter_sse_data(_lines(response, deadline)):
            try:
                chunk = json.loads(data)
            except ValueError:
                continue  # a stray non-JSON event says nothing about the result
            if isinstance(chunk, dict):
                accumulator.feed_chunk(chunk)
            # Parsing the accumulated text costs more as it grows (data: URIs run to MBs),
            # so progress is looked at a few times a second, not on every dot.
            now = time.monotonic()
            if on_progress and now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                on_progress(accumulator.result(complete=False))
        return
    body = _read_capped(response, REPLY_BODY_LIMIT, deadline)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise UpstreamFailure(
            classify_http_error(response.status_code, body, content_type)
        ) from None
    if not isinstance(parsed, dict):
        raise UpstreamFailure(failure("gateway_error", "the reply is not a JSON object"))
    if "choices" not in parsed and "error" in parsed:
        raise UpstreamFailure(classify_http_error(response.status_code, body, content_type))
    accumulator.feed_completion(parsed)


def _lines(response: httpx.Response, deadline: float) -> Iterator[str]:
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise _DeadlinePassed
        yield line


def _read_capped(response: httpx.Response, limit: int, deadline: float) -> str:
    received = bytearray()
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise _DeadlinePassed
        received += chunk
        if len(received) > limit:
            break
    return received[:limit].decode(response.encoding or "utf-8", errors="replace")


def _partial_outcome(accumulator: ReplyAccumulator) -> Outcome | None:
    reply = accumulator.result(complete=True)
    if reply.images:
        return Outcome(reply, _raw(accumulator), accumulator.usage)
    return None


def _raw(accumulator: ReplyAccumulator) -> str:
    return elide_data_uris(accumulator.text)[:RAW_REPLY_LIMIT]


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
