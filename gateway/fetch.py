"""Download result images from untrusted links (the SSRF guard).

AI gateways hand back image links we do not control, so every http(s) hop is checked before we
connect: only public unicast addresses, and we connect to the very IP we checked (no DNS
rebinding). Hosts in ``allow_hosts`` (our own gateways) skip the address rules, nothing else.
A refused link says which rule refused it (``FetchError.refusal``, one of
``failures.LINK_REFUSALS``), so that the app can say why in the reader's words.
"""

import base64
import binascii
import contextlib
import io
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import certifi
import httpx
from PIL import Image

from imaging.types import PICTURE_WORK

from .failures import LINK_REFUSALS

USER_AGENT = "Gaitu/1.0"
MAX_REDIRECTS = 3
RETRY_BACKOFF = 0.5
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Certificate verification for https: one context for every connection, since building one
# loads the CA bundle (some 15 ms each time). Tests swap in one that trusts their own CA.
TLS_VERIFY: ssl.SSLContext = ssl.create_default_context(cafile=certifi.where())

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
# Checked explicitly: older ipaddress versions leave shared address space out of is_private.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv4-compatible IPv6 (deprecated, ::a.b.c.d): judged by the v4 address it spells.
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class FetchError(Exception):
    code: str  # "link_blocked" | "download_failed"
    reason: str  # short English technical reason, for logs
    refusal: str  # for link_blocked: the rule that refused the link (LINK_REFUSALS), else ""

    def __init__(self, code: str, reason: str, refusal: str = "") -> None:
        super().__init__(f"{code}: {reason}")
        if refusal and refusal not in LINK_REFUSALS:
            raise ValueError(f"unknown link refusal {refusal!r}")
        self.code = code
        self.reason = reason
        self.refusal = refusal


class Refusal(NamedTuple):
    """Why a link or an address is not fetched: the rule (LINK_REFUSALS) and the facts."""

    rule: str
    text: str  # e.g. "address 127.0.0.1 is loopback"


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    content_type: str  # from the decoded format, never from the server's header
    width: int
    height: int


def _blocked(rule: str, reason: str) -> FetchError:
    return FetchError("link_blocked", reason, rule)


def _failed(reason: str) -> FetchError:
    return FetchError("download_failed", reason)


def _too_big(max_bytes: int) -> FetchError:
    size = f"{max_bytes // 2**20} MB" if max_bytes % 2**20 == 0 else f"{max_bytes} bytes"
    return _failed(f"over {size}")


def resolve_host(host: str, port: int) -> list[str]:
    """All addresses of host, in resolver order (tests monkeypatch this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_problem(address: str) -> Refusal | None:
    """Why we must not connect to this IP, or None for a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a v6 zone id is not part of the IP
    if isinstance(ip, ipaddress.IPv6Address):
        # These v6 forms reach a v4 host, so the v4 host is what must be judged.
        if ip.ipv4_mapped or ip in _NAT64:
            return address_problem(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        compatible = int(ip) > 1 and ip in _V4_COMPATIBLE  # not :: and ::1, judged below
        embedded = (
            ipaddress.IPv4Address(int(ip))
            if compatible
            else ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        )
        if embedded and (problem := address_problem(str(embedded))):
            return Refusal(problem.rule, f"{problem.text} (inside {ip})")
    checks = (
        ("loopback", "loopback_address", ip.is_loopback),
        ("unspecified", "unspecified_address", ip.is_unspecified),
        ("link-local", "link_local_address", ip.is_link_local),
        ("multicast", "multicast_address", ip.is_multicast),
        ("shared (CGNAT)", "private_address", ip in _CGNAT),
        ("reserved", "reserved_address", ip.is_reserved),  # before private, which 240/4 is too
        ("private", "private_address", ip.is_private),
        (
            "site-local",
            "private_address",
            isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local,
        ),
        ("not global", "reserved_address", not ip.is_global),
    )
    return next(
        (Refusal(rule, f"address {ip} is {name}") for name, rule, hit in checks if hit), None
    )


def _parse(link: str, base: httpx.URL | None = None) -> httpx.URL:
    try:
        url = base.join(link) if base is not None else httpx.URL(link)
        port = url.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise _blocked("invalid_link", f"invalid URL ({exc})") from exc
    if url.scheme not in ("http", "https"):
        raise _blocked("scheme_not_allowed", f"scheme {url.scheme or 'none'!r} not allowed")
    if url.userinfo:
        raise _blocked("credentials_in_link", "credentials in URL")
    if not url.host:
        raise _blocked("invalid_link", "no host in URL")
    if port is not None and not 0 < port < 65536:
        raise _blocked("invalid_link", f"invalid port {port}")
    return url


def _host(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii").lower().rstrip(".")


def _normalise_allow(hosts: Collection[str]) -> frozenset[str]:
    if isinstance(hosts, str):  # a bare "host" would otherwise be iterated per character
        hosts = (hosts,)
    names = set()
    for entry in hosts:
        name = entry.strip().lower()
        if name.startswith("["):  # "[::1]" or "[::1]:8000"
            name = name[1:].partition("]")[0]
        elif name.count(":") == 1:  # "host:port"; a bare IPv6 has several colons
            name = name.partition(":")[0]
        names.add(name.rstrip("."))
    return frozenset(names)


def _checked_addresses(url: httpx.URL, allow: frozenset[str]) -> list[str] | None:
    """Addresses to connect to, all checked; None means an exempt host fetched by name."""
    host = _host(url)
    if host in allow:
        return None
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        raise _blocked("loopback_address", f"host {host} is local")  # always loopback (RFC 6761)
    try:  # IP literals, including inet_aton forms such as 2130706433, 0x7f.1 and 127.1
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = [socket.inet_ntoa(socket.inet_aton(host))]
        except OSError:
            try:
                addresses = resolve_host(host, url.port or (443 if url.scheme == "https" else 80))
            except (OSError, UnicodeError) as exc:
                raise _failed(f"cannot resolve {host}") from exc
    if not addresses:
        raise _failed(f"cannot resolve {host}")
    for address in addresses:  # every one: a mixed answer must not slip a private one through
        if problem := address_problem(address):
            raise _blocked(problem.rule, problem.text)
    return addresses


class _Watchdog:
    """Shuts every socket of the fetch down at the deadline.

    httpx timeouts apply per socket read, so a server dripping header bytes could hold us long
    past the deadline; shutting the socket down makes the blocked read return at once.
    """

    def __init__(self, stop: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._timer = threading.Timer(max(0.0, stop - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:  # httpcore "trace" extension
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:  # our own fd stays valid after TLS wrapping detaches the original
                self._sockets.append(sock.dup())
            if self._fired:  # connected just as the deadline passed
                self._fire()

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


@dataclass
class _Fetch:
    transport: httpx.HTTPTransport
    watchdog: _Watchdog
    stop: float  # time.monotonic() value
    connect_timeout: float
    max_bytes: int
    attempts: int

    def get(self, url: httpx.URL, addresses: list[str] | None) -> tuple[httpx.Response, bytes]:
        """GET with retries on 5xx and connection failures (next address each time)."""
        error = _failed("no attempt made")
        for attempt in range(max(1, self.attempts)):
            if attempt:
                if self.stop - time.monotonic() <= RETRY_BACKOFF:
                    break
                time.sleep(RETRY_BACKOFF)
            try:
                response, body = self._send(
                    url, addresses[attempt % len(addresses)] if addresses else None
                )
            except httpx.HTTPError as exc:
                if time.monotonic() >= self.stop:
                    raise _failed("deadline exceeded") from exc
                error = _failed(f"connection failed ({type(exc).__name__}: {exc})")
                continue
            if response.status_code < 500:
                return response, body
            error = _failed(f"HTTP {response.status_code}")
        raise error

    def _send(self, url: httpx.URL, address: str | None) -> tuple[httpx.Response, bytes]:
        """One GET; the body is read only for a 2xx answer."""
        remaining = self.stop - time.monotonic()
        if remaining <= 0:
            raise _failed("deadline exceeded")
        timeout = httpx.Timeout(remaining, connect=min(self.connect_timeout, remaining))
        # The read timeout is per read; the watchdog and the check below bound the total.
        extensions: dict[str, Any] = {"timeout": timeout.as_dict(), "trace": self.watchdog.trace}
        headers = {"User-Agent": USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"}
        if address is not None:
            # Connect to the checked IP; the server still sees the name in Host, and TLS uses it
            # for SNI and certificate verification.
            headers["Host"] = url.netloc.decode("ascii")
            extensions["sni_hostname"] = _host(url)
            url = url.copy_with(host=address)
        response = self.transport.handle_request(
            httpx.Request("GET", url, headers=headers, extensions=extensions)
        )
        try:
            if not 200 <= response.status_code < 300:
                return response, b""
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                raise _too_big(self.max_bytes)
            encoding = response.headers.get("Content-Encoding", "identity").lower()
            if encoding not in ("", "identity"):  # we asked for identity; decompressing risks bombs
                raise _failed(f"unsupported Content-Encoding {encoding}")
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > self.max_bytes:
                    raise _too_big(self.max_bytes)
                if time.monotonic() > self.stop:
                    raise _failed("deadline exceeded")
            return response, bytes(body)
        finally:
            response.close()


def _decode_image(data: bytes, max_pixels: int, header_type: str) -> FetchedImage:
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _failed("image dimensions too large") from exc  # the warning when it is an error
    except Exception as exc:  # Pillow raises many types on hostile input
        raise _failed(f"not an image ({header_type})" if header_type else "not an image") from exc
    with image:
        width, height = image.size  # from the header: checked before any pixel is decoded
        if width * height > max_pixels:
            raise _failed(f"image dimensions too large ({width}x{height})")
        try:
            if image.format in ("JPEG", "MPO"):
                # At 1/8 scale: libjpeg still decodes every block's data, so a file cut short
                # or damaged fails as it would whole, in half the time and 1/64 of the memory.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            with PICTURE_WORK:
                image.load()  # proves the file is complete, not just its header
        except Exception as exc:
            raise _failed(f"broken {image.format} image ({exc})") from exc
        content_type = Image.MIME[str(image.format)]
    return FetchedImage(data=data, content_type=content_type, width=width, height=height)


def _fetch_data_uri(uri: str, max_bytes: int, max_pixels: int) -> FetchedImage:
    header, comma, payload = uri[5:].partition(",")
    params = [p.strip().lower() for p in header.split(";")]
    # Only an inline picture (data:image/…;base64,) is a data URI Gaitu takes; any other is a
    # link of a kind it does not follow, like ftp: or javascript:.
    if not params[0].startswith("image/"):
        raise _blocked(
            "scheme_not_allowed", f"data URI is {params[0] or 'text/plain'}, not an image"
        )
    if not comma or "base64" not in params[1:]:
        raise _blocked("scheme_not_allowed", "data URI is not base64")
    text = "".join(payload.split())  # line-wrapped base64 is common
    if len(text) // 4 * 3 > max_bytes:
        raise _too_big(max_bytes)
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _failed("bad base64 in data URI") from exc
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    return _decode_image(data, max_pixels, params[0])


def fetch_image(
    url: str,
    *,
    allow_hosts: Collection[str] = (),
    max_bytes: int = 40 * 2**20,
    deadline: float = 60.0,
    connect_timeout: float = 10.0,
    attempts: int = 2,
    max_pixels: int = 50_000_000,
) -> FetchedImage:
    """Download and validate one image, or raise FetchError (link_blocked / download_failed).

    The deadline covers all hops and retries together; DNS lookups are not interruptible."""
    if url[:5].lower() == "data:":
        return _fetch_data_uri(url, max_bytes, max_pixels)
    allow = _normalise_allow(allow_hosts)
    stop = time.monotonic() + deadline
    # The bare transport, not httpx.Client: a Client builds the next redirect request even with
    # follow_redirects=False (raising on odd Locations), and keeps cookies across hops.
    transport = httpx.HTTPTransport(
        verify=TLS_VERIFY,
        trust_env=False,  # no SSL_CERT_FILE and such; the transport never uses env proxies
        # No reuse: a kept-alive TLS connection could carry a request for another hostname.
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    with transport, contextlib.closing(_Watchdog(stop)) as watchdog:
        fetch = _Fetch(transport, watchdog, stop, connect_timeout, max_bytes, attempts)
        current = _parse(url)
        for hop in range(MAX_REDIRECTS + 1):
            response, body = fetch.get(current, _checked_addresses(current, allow))
            status = response.status_code
            if status in _REDIRECT_STATUSES and "Location" in response.headers:
                if hop == MAX_REDIRECTS:
                    raise _failed(f"more than {MAX_REDIRECTS} redirects")
                current = _parse(response.headers["Location"], base=current)
                continue
            if not 200 <= status < 300:
                raise _failed(f"HTTP {status}")
            header_type = response.headers.get("Content-Type", "").partition(";")[0].strip()
            return _decode_image(body, max_pixels, header_type)
    raise AssertionError("unreachable")


def check_link(url: str, *, allow_hosts: Collection[str] = ()) -> None:
    """Raise FetchError if post_json (or a fetch) would refuse this link before connecting.

    For a link kept to be used later (a webhook's): its host is resolved now, and again at
    each use, as its addresses may change meanwhile."""
    _checked_addresses(_parse(url), _normalise_allow(allow_hosts))


def post_json(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    allow_hosts: Collection[str] = (),
    deadline: float = 10.0,
    connect_timeout: float = 5.0,
) -> int:
    """POST a JSON body to an untrusted link, under the same rules as a download; the status.

    One request: no redirect is followed (a 3xx is simply the status answered, as the body
    must not be sent to an address nobody checked), and the answer's body is not read. Each
    checked address is tried in turn only while none took the connection, so the body is
    never sent twice. Raises FetchError: link_blocked for a refused link, download_failed
    when no answer came (its reason says why: timeout, connection refused, cannot resolve).
    """
    allow = _normalise_allow(allow_hosts)
    stop = time.monotonic() + deadline
    target = _parse(url)
    checked = _checked_addresses(target, allow)
    addresses: list[str | None] = [*checked] if checked is not None else [None]
    transport = httpx.HTTPTransport(
        verify=TLS_VERIFY,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    sent_headers = {
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",
        **(headers or {}),
    }
    with transport, contextlib.closing(_Watchdog(stop)) as watchdog:
        error = _failed("no attempt made")
        for address in addresses:
            remaining = stop - time.monotonic()
            if remaining <= 0:
                raise _failed("deadline exceeded")
            timeout = httpx.Timeout(remaining, connect=min(connect_timeout, remaining))
            extensions: dict[str, Any] = {"timeout": timeout.as_dict(), "trace": watchdog.trace}
            request_url, request_headers = _pinned(target, address, sent_headers, extensions)
            request = httpx.Request("POST", request_url, headers=request_headers, content=body)
            try:
                response = transport.handle_request(request)
            except httpx.ConnectError as exc:  # nothing was sent: the next address may answer
                error = _failed(f"connection failed ({type(exc).__name__}: {exc})")
                continue
            except httpx.HTTPError as exc:
                if time.monotonic() >= stop:
                    raise _failed("deadline exceeded") from exc
                raise _failed(f"no answer ({type(exc).__name__}: {exc})") from exc
            response.close()
            return response.status_code
        raise error


def _pinned(
    url: httpx.URL, address: str | None, headers: dict[str, str], extensions: dict[str, Any]
) -> tuple[httpx.URL, dict[str, str]]:
    """The request's URL and headers for connecting to the checked IP (None: by name).

    The server still sees the name in Host, and TLS uses it for SNI and certificate
    verification (set in extensions)."""
    if address is None:
        return url, headers
    extensions["sni_hostname"] = _host(url)
    return url.copy_with(host=address), {**headers, "Host": url.netloc.decode("ascii")}
