"""Several providers for one model, in order: when one cannot take the request, the next does.

An edit moves on only when the provider failed before any output, in a way another provider
may not share (it does not serve the model now, it is saturated, broken, slow to answer or
unreachable). A failure once the model had begun to answer, a refusal, or a reply that came
back at all, ends there: that generation may be paid for, and is never asked for twice.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from .config import GatewayConfig
from .failures import Failure, GatewayFailure
from .retries import send_with_retries
from .transport import ImageRequest, Outcome, ProgressCallback, Transport

# The failures that send an edit on to the next provider (when nothing had been output).
MOVE_ON = frozenset(
    {"model_unavailable", "rate_limited", "gateway_error", "timeout", "connection_failed"}
)


@dataclass(frozen=True)
class Route:
    """One provider a model can be asked through: its name, its settings, its transport."""

    name: str
    config: GatewayConfig
    transport: Transport
    key: str = ""  # how the app knows the provider (its id); "" for the environment's gateway


@dataclass(frozen=True)
class Switch:
    """The edit moved from one provider to the next, and why ("503", "timeout")."""

    left: str
    to: str
    after: str


def moves_on(exc: GatewayFailure) -> bool:
    return exc.failure.code in MOVE_ON and not exc.output_started


def reason_of(exc: GatewayFailure) -> str:
    """What a person is told the switch came after: the HTTP status, else the failure's code."""
    return str(exc.status) if exc.status else exc.failure.code


def send_with_fallback(
    routes: Sequence[Route],
    request: ImageRequest,
    *,
    on_progress: ProgressCallback | None = None,
    on_retry: Callable[[int, int, Failure, float], None] | None = None,
    on_switch: Callable[[Switch], None] | None = None,
    on_call: Callable[[Route, float, Failure | None], None] | None = None,
    client: httpx.Client | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> tuple[Route, Outcome]:
    """Ask each route in turn until one gives a reply.

    on_call(route, seconds, failure) is told after each provider was asked, for its health
    record (failure: None when it replied, even with a refusal, as the provider did its part).
    Raises the last GatewayFailure when no provider could take the request.
    """
    if not routes:
        raise ValueError("no provider serves this model")
    for number, route in enumerate(routes):
        last = number == len(routes) - 1
        started = time.monotonic()
        try:
            # With another provider to go to, a transient failure moves on at once rather
            # than waiting out a backoff here; the last provider gets its retries.
            outcome = send_with_retries(
                route.transport,
                request,
                max_attempts=route.config.max_attempts if last else 1,
                on_progress=on_progress,
                on_retry=on_retry,
                client=client,
                sleep=sleep,
            )
        except GatewayFailure as exc:
            if on_call:
                on_call(route, time.monotonic() - started, exc.failure)
            if last or not moves_on(exc):
                raise
            if on_switch:
                on_switch(Switch(route.name, routes[number + 1].name, reason_of(exc)))
            continue
        if on_call:
            on_call(route, time.monotonic() - started, None)
        return route, outcome
    raise AssertionError("unreachable: the last route returns or raises")
