"""Transient failures are tried again, with exponential backoff and jitter, for any transport."""

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .failures import Failure, GatewayFailure
from .transport import ImageRequest, Outcome, ProgressCallback, Transport

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def send_with_retries(
    transport: Transport,
    request: ImageRequest,
    *,
    max_attempts: int = 3,
    on_progress: ProgressCallback | None = None,
    on_retry: Callable[[int, int, Failure, float], None] | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> Outcome:
    """transport.send(), repeated on retryable failures.

    on_retry(next_attempt, max_attempts, failure, delay) is told before each wait; `sleep`
    does the waiting, so a caller can make the wait end early (cancel) by raising from it.
    """
    for attempt in range(1, max_attempts + 1):
        try:
            return transport.send(request, on_progress, client)
        except GatewayFailure as exc:
            if not exc.retryable or attempt == max_attempts:
                raise
            delay = backoff_delay(attempt, exc.retry_after)
            logger.info("gateway: %s, retrying in %.1f s", exc.failure.code, delay)
            if on_retry:
                on_retry(attempt + 1, max_attempts, exc.failure, delay)
            sleep(delay)
    raise ValueError("max_attempts must be at least 1")


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
