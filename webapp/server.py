"""The web server: uvicorn as `manage.py serve` runs it, with the guards uvicorn lacks.

uvicorn waits as long as a client likes for a request's headers and for its body, and counts
no connections per client: a few hundred connections that send one byte now and then (or
nothing at all) hold the server for good. The HTTP protocol here is uvicorn's own (httptools)
with these guards, set in webapp/settings/gaitu.py ("The web server"):

- GAITU_HEADER_TIMEOUT: a request's headers must be complete this long after the connection
  opens, or, on a kept-alive connection, after the next request's first byte arrives (the
  wait before that byte is the keep-alive timeout's, GAITU_KEEP_ALIVE_TIMEOUT). It never runs
  while a response is being sent: a live update stream lasts as long as it needs.
- GAITU_BODY_TIMEOUT: while a request body is read, this long without a byte arriving closes
  the connection. A 20 MB picture at any real speed never waits that long; the clock stops
  while the server itself has stopped reading (the app has not yet taken what came).
- Headers beyond MAX_HEADER_BYTES are answered 431: httptools would otherwise keep gathering
  them, as fast as a client can send, for as long as the header timeout lets it.
- GAITU_MAX_CONNECTIONS_PER_ADDRESS: one client address holds at most this many connections
  at once in each web process (GAITU_WEB_PROCESSES), live update streams included; the next
  one is answered 503 and closed, and those it holds go on untouched. The address is the
  direct peer's (an IPv6 one by its /64). A trusted proxy (GAITU_TRUSTED_PROXIES) is not
  counted: its connections carry everyone's requests, and which client a connection is for
  is only known from a request's X-Forwarded-For, after the connection was taken, and can
  change with each request the proxy sends on it. Behind a proxy it is the proxy that limits
  each client (the README shows how).

Whom to believe about the client's address and scheme is uvicorn's own proxy-headers
handling, given GAITU_TRUSTED_PROXIES and nothing else (see web_server_command).
"""

import asyncio
import functools
import logging
import math
import socket
from asyncio import TimerHandle
from collections import Counter
from contextlib import suppress
from typing import Any

from django.conf import settings
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from webapp.server_limits import (
    ServerLimits,
    address_key,
    forwarded_allow_ips,
    is_trusted_proxy,
    open_files_limit,
    overall_connection_cap,
)

# At Ctrl+C, uploads in flight get this long to finish (live updates end sooner).
WEB_GRACE_SECONDS = 5
# All of a request's headers, the request line included. Browsers send a few kilobytes at
# most (cookies included); nginx's own default allows 32 KB.
MAX_HEADER_BYTES = 64 * 1024
# A refused connection's request (if it sent one) is read and dropped for this long at most,
# so that the answer reaches the client: closing with the request unread would send a reset,
# which can destroy the answer before the client reads it.
REFUSED_LINGER_SECONDS = 1.0

logger = logging.getLogger("uvicorn.error")  # uvicorn's, so --log-level applies


def web_server_command(python: str, host: str, port: int) -> list[str]:
    """The uvicorn command line of `manage.py serve`, the one way Gaitu starts its web server.

    uvicorn, an ASGI server: the few async views (the live updates of running edits) wait
    without holding a thread; every other view runs in a thread. With GAITU_WEB_PROCESSES
    above 1, uvicorn runs that many processes on the one listening socket (the kernel hands
    each connection to one of them) and starts again at once any that dies; each has its own
    guards, so the per-address connection cap holds per process. The live updates reach
    every process, from any worker: each process's hub hears of changes from the database.
    """
    limits = ServerLimits.from_settings()
    processes = settings.GAITU_WEB_PROCESSES
    if limits.trusted_proxies:
        # uvicorn then takes the client's address from the X-Forwarded-For entries that these
        # proxies added (the last one added by someone else), and the scheme from
        # X-Forwarded-Proto, only on connections from them. Django's request.is_secure() reads
        # that scheme (it trusts no header itself: webapp/settings/security.py).
        proxies = ["--forwarded-allow-ips", forwarded_allow_ips(limits.trusted_proxies)]
    else:
        # uvicorn would otherwise believe these headers from 127.0.0.1 by default.
        proxies = ["--no-proxy-headers"]
    cap = overall_connection_cap(open_files_limit())
    return [
        python, "-m", "uvicorn", "webapp.asgi:application",
        "--host", host, "--port", str(port),
        "--http", f"{__name__}:{GuardedHttpProtocol.__name__}",
        "--ws", "none",  # no WebSockets in Gaitu: an upgrade would leave the protocol above
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        *proxies,
        # Cards and live updates reuse their connection; kept this long between requests.
        # uvicorn counts whole seconds.
        "--timeout-keep-alive", str(max(1, math.ceil(limits.keep_alive_timeout))),
        # All clients together: see overall_connection_cap.
        *(["--limit-concurrency", str(cap)] if cap is not None else []),
        "--timeout-graceful-shutdown", str(WEB_GRACE_SECONDS),
        *(["--workers", str(processes)] if processes > 1 else []),
    ]  # fmt: skip


@functools.cache
def configured_limits() -> ServerLimits:
    return ServerLimits.from_settings()


def send_at_once(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on a TCP connection, as asyncio means to do on its own.

    uvicorn writes an answer's headers and its body separately. With Nagle on, the body waits
    for the client to acknowledge the headers, which a client delays by up to 40 ms: every
    answer then takes 40 ms more. asyncio sets TCP_NODELAY only on sockets whose protocol
    number reads IPPROTO_TCP, and the listening socket that uvicorn makes itself with
    GAITU_WEB_PROCESSES above 1 reads 0, as do the connections it accepts.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        # An OSError: the connection is gone already, with nothing left to send on it.
        with suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# One uvicorn server per process, so one count per process: with GAITU_WEB_PROCESSES above 1,
# an address may hold the cap in each of them.
open_by_address: Counter[str] = Counter()
# Addresses said to be over the cap since they last were under it: said once, not per refusal.
_over_cap: set[str] = set()


def _plain_answer(status: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        "\r\n"
    ).encode() + body


TOO_MANY_CONNECTIONS = _plain_answer(
    "503 Service Unavailable", "Too many connections from your address at once.\n"
)
HEADERS_TOO_LARGE = _plain_answer(
    "431 Request Header Fields Too Large", "The request's headers are too large.\n"
)

# Where a connection is: reading a request's headers, reading its body, or past both (the app
# answering, then waiting for the next request, which is the keep-alive timeout's), or
# answered by this protocol itself and closing.
HEADERS, BODY, ANSWERING, CLOSING = "headers", "body", "answering", "closing"


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout, a body timeout, a header size cap
    and a cap on each client address's connections (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = configured_limits()
        self.state = HEADERS
        self.counted_as: str | None = None  # the address this connection counts against
        self.header_bytes = 0
        self.header_timer: TimerHandle | None = None
        self.body_timer: TimerHandle | None = None
        self.body_arrived_at = 0.0  # loop time of the body's latest bytes

    # --- The connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        send_at_once(transport)
        host = self.client[0] if self.client else None
        if host is not None and not is_trusted_proxy(host, self.limits.trusted_proxies):
            address = address_key(host)
            if open_by_address[address] >= self.limits.max_connections_per_address:
                if address not in _over_cap:
                    _over_cap.add(address)
                    logger.warning(
                        "%s holds %d connections, GAITU_MAX_CONNECTIONS_PER_ADDRESS: "
                        "further ones are refused (503) until it holds fewer.",
                        address,
                        open_by_address[address],
                    )
                self._answer_and_close(TOO_MANY_CONNECTIONS)
                return
            open_by_address[address] += 1
            self.counted_as = address
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = CLOSING
        self._cancel_timers()
        if self.counted_as is not None:
            address, self.counted_as = self.counted_as, None
            open_by_address[address] -= 1
            if open_by_address[address] < self.limits.max_connections_per_address:
                _over_cap.discard(address)
            if open_by_address[address] <= 0:
                del open_by_address[address]  # the count holds only addresses connected now
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSING:
            return  # answered already: what else comes is dropped
        if self.state == ANSWERING:
            # The next request begins (or stray bytes do, which uvicorn would take as the end
            # of its keep-alive wait): its headers get the time a new connection's get.
            self._start_headers()
        was = self.state
        if was == BODY:
            self.body_arrived_at = self.loop.time()
        super().data_received(data)
        if was == HEADERS and self.state == HEADERS:
            # Still in the headers after the whole chunk: all of it was headers. (A chunk in
            # which they end is not counted; a read is 256 KB at most.)
            self.header_bytes += len(data)
            if self.header_bytes > MAX_HEADER_BYTES:
                self._answer_and_close(HEADERS_TOO_LARGE)

    # --- The parser's callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.state == ANSWERING:
            self._start_headers()  # a pipelined request, in the same chunk as the one before
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel_timers()
        self.state = BODY
        self.body_arrived_at = self.loop.time()
        self.body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_timers()
        self.state = ANSWERING
        super().on_message_complete()

    # --- The guards -------------------------------------------------------------------------

    def _start_headers(self) -> None:
        self._cancel_timers()
        self.state = HEADERS
        self.header_bytes = 0
        self.header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self.header_timer = None
        if self.state == HEADERS:
            logger.info(
                "%s: closed, its request's headers took over %g s (GAITU_HEADER_TIMEOUT).",
                self._peer(),
                self.limits.header_timeout,
            )
            self.transport.abort()

    def _check_body(self) -> None:
        self.body_timer = None
        if self.state != BODY:
            return
        now = self.loop.time()
        if self.flow.read_paused:
            # The server stopped reading (the app has not taken what came): not the client's
            # stall. Its clock starts again from here.
            self.body_arrived_at = now
        deadline = self.body_arrived_at + self.limits.body_timeout
        if now >= deadline:
            logger.info(
                "%s: closed, its request body stalled for %g s (GAITU_BODY_TIMEOUT).",
                self._peer(),
                self.limits.body_timeout,
            )
            self.transport.abort()
        else:
            self.body_timer = self.loop.call_at(deadline, self._check_body)

    def _answer_and_close(self, answer: bytes) -> None:
        """Answer this connection ourselves and close it, without a request for the app."""
        self._cancel_timers()
        self.state = CLOSING
        if self.transport.is_closing():
            return  # uvicorn has answered already (a 400 for what it could not read)
        cycle: RequestResponseCycle | None = self.cycle  # None until a first request
        if cycle is not None and not cycle.response_complete:
            self.transport.abort()  # an answer of the app's is still being sent: no room here
            return
        self.transport.write(answer)
        if self.transport.can_write_eof():
            # uvicorn's eof_received then closes the connection when the client closes its side.
            self.transport.write_eof()
        self.header_timer = self.loop.call_later(REFUSED_LINGER_SECONDS, self.transport.abort)

    def _cancel_timers(self) -> None:
        for timer in (self.header_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.header_timer = self.body_timer = None

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
