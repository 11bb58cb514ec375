"""Talking to image gateways, with no Django and no settings: everything comes in as arguments.

- config: GatewayConfig and DownloadLimits, frozen dataclasses the caller builds.
- transport: the seam, ImageRequest -> Outcome; chat/ is the chat-completions transport.
- retries: transient failures tried again with backoff, whatever the transport.
- failures: a Failure is a code and the gateway's own words; the app words it for people.
- fetch: result downloads that never reach a private address (the SSRF guard).
- demo/: the built-in demo gateway, a real HTTP server on loopback.
"""

from .chat.client import ChatTransport
from .config import GatewayConfig
from .transport import Transport

# Each transport by the name a GatewayConfig gives; a second API plugs in here.
TRANSPORTS: dict[str, type[ChatTransport]] = {"chat": ChatTransport}


def transport_for(config: GatewayConfig) -> Transport:
    return TRANSPORTS[config.transport](config)
