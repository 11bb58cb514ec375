"""Talking to image gateways, with no Django and no settings: everything comes in as arguments.

- config: GatewayConfig and DownloadLimits, frozen dataclasses the caller builds.
- transport: the seam, ImageRequest -> Outcome; chat/, images/ and gemini/ are the transports,
  and transports.py says which one a model is spoken to through by default.
- retries: transient failures tried again with backoff, whatever the transport.
- fallback: several providers for a model, in order, moving on before any output.
- failures: a Failure is a code and the gateway's own words; the app words it for people.
- masks: the area to change, as each transport sends it.
- fetch: result downloads that never reach a private address (the SSRF guard).
- demo/: the built-in demo gateway, a real HTTP server on loopback, speaking all three.
"""

from collections.abc import Callable

from .chat.client import ChatTransport
from .config import GatewayConfig
from .gemini.client import GeminiTransport
from .images.client import ImagesTransport
from .transport import Transport

# Each transport by the name a GatewayConfig gives (gateway.transports.NAMES).
TRANSPORTS: dict[str, Callable[[GatewayConfig], Transport]] = {
    "chat": ChatTransport,
    "images": ImagesTransport,
    "gemini": GeminiTransport,
}


def transport_for(config: GatewayConfig) -> Transport:
    return TRANSPORTS[config.transport](config)
