"""The chat-edit client: one request to an OpenAI-compatible gateway, read to its end.

Builds the request of the API card, reads a streamed (SSE) or plain JSON reply into a
ReplyAccumulator, reports progress as it comes, and turns every way of failing into a Failure.
"""

import base64
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from . import fetch
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
    """The gateway could not give a reply. `retryable` failures may go better a moment later."""

    def __init__(
        self,
        failure: Failure,
        raw_text: str = "",
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(failure.code)
        self.failure = failure
        self.raw_text = raw_text
        self.retryable = retryable
        self.retry_after = retry_after


def failure(code: str, detail: str = "") -> Failure:
    return Failure(code, FAILURE_CODES[code], detail)


@dataclass
class Outcome:
    reply: ParsedReply
    raw_text: str
    usage: dict


class _DeadlinePassed(Exception):
    pass


TRANSIENT_STATUSES = {429, 502, 503, 504}


def request_edit_with_retries(
    gateway: Gateway,
    payload: dict,
    *,
    max_attempts: int = 3,
    on_progress: Callable[[ParsedReply], None] | None = None,
    on_retry: Callable[[int, int, Failure, float], None] | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> Outcome:
    """request_edit, repeated on transient failures with exponential backoff and jitter.

    on_retry(next_attempt, max_attempts, failure, delay) is told before each wait; `sleep`
    does the waiting, so a caller can make the wait end early (cancel) by raising from it.
    """
    for attempt in range(1, max_attempts + 1):
        try:
            return request_edit(gateway, payload, on_progress, client)
        except UpstreamFailure as exc:
            if not exc.retryable or attempt == max_attempts:
                raise
            delay = backoff_delay(attempt, exc.retry_after)
            logger.info("gateway: %s, retrying in %.1f s", exc.failure.code, delay)
            if on_retry:
                on_retry(attempt + 1, max_attempts, exc.failure, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def backoff_delay(attempt: int, retry_after: float | None = None, base: float = 1.0) -> float:
    """Full jitter: a random wait up to base * 2^attempt, or what the gateway asked for."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), 60.0)
    return random.uniform(base / 2, min(30.0, base * 2**attempt))  # noqa: S311


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def request_edit(
    gateway: Gateway,
    payload: dict,
    on_progress: Callable[[ParsedReply], None] | None = None,
    client: httpx.Client | None = None,
) -> Outcome:
    """Send one chat-edit request and read the reply to its end.

    Returns the parsed reply (which may itself carry a failure, e.g. a refusal); raises
    UpstreamFailure when the gateway could not be reached or answered with an error. Some
    gateways quote the key back in their errors; it is cut out of everything kept.
    """
    try:
        outcome = _request_once(gateway, payload, on_progress, client)
    except UpstreamFailure as exc:
        exc.failure = _without_key(exc.failure, gateway.api_key)
        exc.raw_text = exc.raw_text.replace(gateway.api_key, "***")
        raise
    outcome.raw_text = outcome.raw_text.replace(gateway.api_key, "***")
    if outcome.reply.failure:
        outcome.reply.failure = _without_key(outcome.reply.failure, gateway.api_key)
    return outcome


def _without_key(problem: Failure, key: str) -> Failure:
    return replace(problem, detail=problem.detail.replace(key, "***"))


def _request_once(
    gateway: Gateway,
    payload: dict,
    on_progress: Callable[[ParsedReply], None] | None,
    client: httpx.Client | None,
) -> Outcome:
    own_client = client is None
    client = client or httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY)
    reading = _Reading(ReplyAccumulator(), time.monotonic() + gateway.total_timeout, on_progress)
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
            reading.read(response)
    except httpx.ConnectTimeout:
        raise UpstreamFailure(
            failure("timeout", f"could not connect within {gateway.connect_timeout:g} s"),
            retryable=True,
        ) from None
    except httpx.ConnectError as exc:
        raise UpstreamFailure(
            failure("connection_failed", _describe(exc)), retryable=True
        ) from None
    except (httpx.TimeoutException, _DeadlinePassed) as exc:
        if kept := reading.partial_outcome():
            return kept
        if isinstance(exc, _DeadlinePassed):
            reason, retryable = f"no complete reply within {gateway.total_timeout:g} s", False
        else:
            reason = f"the gateway sent nothing for {gateway.read_timeout:g} s"
            retryable = not reading.received  # silent from the start: nothing was generated
        raise UpstreamFailure(
            failure("timeout", reason), reading.raw(), retryable=retryable
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.StreamClosed) as exc:
        # The connection dropped mid-reply: images already received are still good.
        if kept := reading.partial_outcome():
            return kept
        raise UpstreamFailure(
            failure("connection_failed", f"connection closed mid-reply ({_describe(exc)})"),
            reading.raw(),
        ) from None
    finally:
        if own_client:
            client.close()
    return reading.outcome()


class _Reading:
    """One reply being read: the accumulator, the deadline, how much has arrived."""

    def __init__(
        self,
        accumulator: ReplyAccumulator,
        deadline: float,
        on_progress: Callable[[ParsedReply], None] | None,
    ):
        self.accumulator = accumulator
        self.deadline = deadline
        self.on_progress = on_progress
        self.received = 0

    def read(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400:
            body = self._read_capped(response, ERROR_BODY_LIMIT)
            raise UpstreamFailure(
                classify_http_error(response.status_code, body, content_type),
                retryable=response.status_code in TRANSIENT_STATUSES,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if "text/event-stream" in content_type:
            self._read_stream(response)
            return
        body = self._read_capped(response, REPLY_BODY_LIMIT)
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
        self.accumulator.feed_completion(parsed)

    def _read_stream(self, response: httpx.Response) -> None:
        last_report = 0.0
        for data in iter_sse_data(self._lines(response)):
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

    def _lines(self, response: httpx.Response) -> Iterator[str]:
        for line in response.iter_lines():
            self.received += len(line) + 1
            if time.monotonic() > self.deadline:
                raise _DeadlinePassed
            yield line

    def _read_capped(self, response: httpx.Response, limit: int) -> str:
        received = bytearray()
        for chunk in response.iter_bytes():
            self.received += len(chunk)
            if time.monotonic() > self.deadline:
                raise _DeadlinePassed
            received += chunk
            if len(received) > limit:
                break
        return received[:limit].decode(response.encoding or "utf-8", errors="replace")

    def partial_outcome(self) -> Outcome | None:
        outcome = self.outcome()
        return outcome if outcome.reply.images else None

    def outcome(self) -> Outcome:
        return Outcome(self.accumulator.result(complete=True), self.raw(), self.accumulator.usage)

    def raw(self) -> str:
        return elide_data_uris(self.accumulator.text)[:RAW_REPLY_LIMIT]


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def list_models(gateway: Gateway, timeout: float = 3.0) -> list[str]:
    """The model ids the gateway says it serves (GET /v1/models); [] when it won't say."""
    try:
        with httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY, timeout=timeout) as client:
            response = client.get(
                f"{api_root(gateway.base_url)}/models",
                headers={"Authorization": f"Bearer {gateway.api_key}", "User-Agent": USER_AGENT},
            )
            response.raise_for_status()
            listed = response.json().get("data", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return sorted({str(item["id"]) for item in listed if isinstance(item, dict) and "id" in item})
