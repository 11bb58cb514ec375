"""What the web server believes and allows: its trusted proxies, its timeouts, its caps.

Read from the settings (webapp/settings/gaitu.py, "The web server") and used by the command
line that `manage.py serve` builds, by the HTTP protocol that enforces them (webapp/server.py)
and by the system checks (webapp/checks.py). No uvicorn here: the checks run in every process,
the worker's too, and uvicorn's imports would cost it some 14 MB for nothing.
"""

import ipaddress
import resource
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from django.conf import settings

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network
type Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# The requests of one IPv6 host come from anywhere in its /64 (privacy addresses change by the
# hour, and a home or a machine is given a /64 or more), so that is what counts as one address.
IPV6_CLIENT_PREFIX = 64
# IPv4 peers of a server listening on "::" (both families) look like ::ffff:a.b.c.d.
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

# Files the web server keeps for itself beyond its connections: the database, pictures being
# read or written, the static files, logs. The overall connection cap leaves them this many.
FILE_DESCRIPTOR_RESERVE = 128


@dataclass(frozen=True)
class ServerLimits:
    trusted_proxies: tuple[Network, ...]
    header_timeout: float  # seconds until a request's headers are complete
    body_timeout: float  # seconds a request body may go without a byte arriving
    keep_alive_timeout: float  # seconds an idle connection waits for its next request
    max_connections_per_address: int

    @classmethod
    def from_settings(cls) -> Self:
        """The configured limits (ValueError for a trusted proxy that is not an address)."""
        return cls(
            trusted_proxies=parse_trusted_proxies(settings.GAITU_TRUSTED_PROXIES),
            header_timeout=settings.GAITU_HEADER_TIMEOUT,
            body_timeout=settings.GAITU_BODY_TIMEOUT,
            keep_alive_timeout=settings.GAITU_KEEP_ALIVE_TIMEOUT,
            max_connections_per_address=settings.GAITU_MAX_CONNECTIONS_PER_ADDRESS,
        )


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """GAITU_TRUSTED_PROXIES as networks: "10.0.0.5" is 10.0.0.5/32, "10.0.0.0/8" a network.

    Anything else is refused rather than kept as a name that never matches (uvicorn's own list
    silently keeps such entries): a proxy's host name is not resolved, and "*" would believe
    everyone, which is what this list is there to prevent.
    """
    networks = []
    for entry in entries:
        try:
            # strict=False: 10.1.2.3/24 is taken to mean the network it is in, 10.1.2.0/24.
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def forwarded_allow_ips(networks: Iterable[Network]) -> str:
    """uvicorn's --forwarded-allow-ips for these networks, each IPv4 one in both of its forms.

    Listening on "::", uvicorn sees an IPv4 proxy as ::ffff:10.0.0.5 and would not find it in
    a list of IPv4 networks.
    """
    written = []
    for network in networks:
        written.append(str(network))
        if network.version == 4:
            mapped = int(_IPV4_MAPPED.network_address) + int(network.network_address)
            written.append(str(ipaddress.IPv6Network((mapped, 96 + network.prefixlen))))
    return ",".join(written)


def _address(host: str) -> Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # not an IP address: a Unix socket's peer
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(host: str, trusted: Iterable[Network]) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in trusted)


def address_key(host: str) -> str:
    """What one client address is, for the count of its open connections.

    An IPv4 address as itself (also when written as ::ffff:a.b.c.d), an IPv6 one by its /64.
    """
    address = _address(host)
    if address is None:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        prefix = int(address) >> (128 - IPV6_CLIENT_PREFIX) << (128 - IPV6_CLIENT_PREFIX)
        return str(ipaddress.IPv6Network((prefix, IPV6_CLIENT_PREFIX)))
    return str(address)


def overall_connection_cap(open_files_limit: int) -> int | None:
    """uvicorn's --limit-concurrency for a process allowed this many open files (None: none).

    Past the cap a request is answered 503 at once and its connection closed, before the
    process runs out of files: then it could no longer open its database or a picture for the
    requests it is already serving (and would stop accepting connections for a second at a
    time, which is how asyncio meets that).
    """
    if open_files_limit == resource.RLIM_INFINITY:
        return None
    return max(open_files_limit - FILE_DESCRIPTOR_RESERVE, open_files_limit // 2)


def open_files_limit() -> int:
    """This process's soft limit of open files, which the web server it starts inherits."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft
