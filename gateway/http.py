"""The HTTP plumbing the three transports (gateway/chat, gateway/images, gateway/gemini) share.

Each transport sends one request and reads one reply, however its API shapes them; how the
waiting is bounded, who closes the client, and what a dropped or silent connection becomes
(which failure code, whether it may be asked again, whether output had begun) is the same for
all, and is written once here. What counts as a partial result, the URLs, the bodies and the
reading of the replies stay with each transport.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from . import fetch
from .config import GatewayConfig
from .failures import Failure, GatewayFailure

USER_AGENT = "Gaitu/1.0"
ERROR_BODY_LIMIT = 64 * 2**10  # as much of an error's body as is read and kept
REPLY_BODY_LIMIT = 96 * 2**20  # a non-streamed reply may carry several MB of base64 images


class DeadlinePassed(Exception):
    """The whole reply took longer than GatewayConfig.total_timeout.

    httpx bounds each wait (connecting, each read) but not the whole: a gateway that keeps
    sending a byte now and then would hold the request forever. The readers below check the
    clock as each piece arrives and raise this.
    """


# The reply stopped coming: a read waited longer than read_timeout, or the whole reply took
# longer than total_timeout. (A ConnectTimeout, a TimeoutException too, never gets this far:
# reaching() raises it as a failure to connect.)
TIMED_OUT = (httpx.TimeoutException, DeadlinePassed)
# The connection closed before the reply's end.
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.StreamClosed)


def timeouts(config: GatewayConfig) -> httpx.Timeout:
    """httpx's timeouts for one request: writing the body (it may be megabytes of pictures)
    is given as long as a read, and waiting for a pooled connection as long as opening one."""
    return httpx.Timeout(
        connect=config.connect_timeout,
        read=config.read_timeout,
        write=config.read_timeout,
        pool=config.connect_timeout,
    )


def reply_headers(stream: bool) -> dict[str, str]:
    """The headers every request has: which kind of reply it reads, and who is asking."""
    return {
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": USER_AGENT,
    }


@contextmanager
def reaching(config: GatewayConfig, client: httpx.Client | None) -> Iterator[httpx.Client]:
    """The client to send one request with; failing to reach the gateway is raised as a
    GatewayFailure that may be asked again, as nothing was sent.

    The client given is left open for whoever made it (the worker reuses one across
    requests); without one, a client of our own is made and closed once the reply is read.
    trust_env=False: no proxy or certificate settings from the environment, only the
    certificates gateway.fetch trusts (looked up now, so tests can swap them).
    """
    own = None
    if client is None:
        client = own = httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY)
    try:
        yield client
    # A ConnectTimeout is a TimeoutException too, and is caught here, before a transport's
    # own handling of TIMED_OUT could take it for a reply gone quiet.
    except httpx.ConnectTimeout:
        raise GatewayFailure(
            Failure("timeout", f"could not connect within {config.connect_timeout:g} s"),
            retryable=True,
        ) from None
    except httpx.ConnectError as exc:  # refused, no such host, TLS
        raise GatewayFailure(Failure("connection_failed", describe(exc)), retryable=True) from None
    finally:
        if own is not None:
            own.close()


def deadline_after(seconds: float) -> float:
    """The time.monotonic() by which a whole reply must have come."""
    return time.monotonic() + seconds


def lines_until(
    response: httpx.Response,
    deadline: float,
    on_received: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The reply's lines, as they come, until the deadline; on_received hears of each line
    (its length, with its line break) before the clock is checked, so a line that came late
    still counts as received."""
    for line in response.iter_lines():
        if on_received:
            on_received(len(line) + 1)
        if time.monotonic() > deadline:
            raise DeadlinePassed
        yield line


def read_capped(
    response: httpx.Response,
    limit: int,
    deadline: float,
    on_received: Callable[[int], None] | None = None,
) -> str:
    """The body's first `limit` bytes, decoded, read before the deadline: reading stops
    once past the limit rather than holding a runaway body in memory."""
    received = bytearray()
    for chunk in response.iter_bytes():
        if on_received:
            on_received(len(chunk))
        if time.monotonic() > deadline:
            raise DeadlinePassed
        received += chunk
        if len(received) > limit:
            break
    return received[:limit].decode(response.encoding or "utf-8", errors="replace")


def describe(exc: Exception) -> str:
    """httpx's words for what went wrong, or the error's name when it has none."""
    return str(exc) or type(exc).__name__


def timed_out(
    config: GatewayConfig,
    exc: Exception,
    raw: str,
    *,
    silent: bool,
    output_started: bool,
) -> GatewayFailure:
    """One of TIMED_OUT, when the transport kept nothing of the reply.

    Only a gateway silent from the start may be asked again: nothing was generated. Past the
    whole deadline (total_timeout) it is never asked again, silent or not.
    """
    if isinstance(exc, DeadlinePassed):
        reason = f"no complete reply within {config.total_timeout:g} s"
    else:
        reason = f"the gateway sent nothing for {config.read_timeout:g} s"
    return GatewayFailure(
        Failure("timeout", reason),
        raw,
        retryable=silent and not isinstance(exc, DeadlinePassed),
        output_started=output_started,
    )


def connection_closed(
    exc: Exception,
    raw: str,
    *,
    output_started: bool,
    where: str = "mid-reply",
    retryable: bool = False,
) -> GatewayFailure:
    """One of DROPPED, when the transport kept nothing of the reply."""
    return GatewayFailure(
        Failure("connection_failed", f"connection closed {where} ({describe(exc)})"),
        raw,
        retryable=retryable,
        output_started=output_started,
    )
