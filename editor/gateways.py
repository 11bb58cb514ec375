"""The one place that picks the gateway: the configured one, or the built-in demo without a key."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from gateway.chat.client import list_models
from gateway.config import GatewayConfig
from gateway.demo import server as demo
from providers.models import Provider

GATEWAY_MODELS_CACHE = "gateway-models"


def configured_gateway() -> GatewayConfig:
    """The gateway from settings, or the built-in demo gateway when no API key is set."""
    if settings.GAITU_DEMO:
        base_url = demo.ensure_running(
            models=settings.GAITU_MODELS, latency=settings.GAITU_DEMO_LATENCY
        )
        api_key = "demo"
    else:
        base_url = settings.GAITU_API_BASE or "https://api.openai.com"
        api_key = settings.GAITU_API_KEY
    extra_body = settings.GAITU_EXTRA_BODY
    return GatewayConfig(base_url, api_key, extra_body=extra_body, **request_settings())


def request_settings() -> dict:
    """How every gateway is asked, the environment's and the providers' alike: streaming,
    output limit, timeouts, attempts."""
    return {
        "stream": settings.GAITU_STREAM,
        "max_tokens": settings.GAITU_MAX_TOKENS,
        "image_detail": settings.GAITU_IMAGE_DETAIL,
        "connect_timeout": settings.GAITU_CONNECT_TIMEOUT,
        "read_timeout": settings.GAITU_READ_TIMEOUT,
        "total_timeout": settings.GAITU_TOTAL_TIMEOUT,
        "max_attempts": settings.GAITU_MAX_ATTEMPTS,
    }


def download_allow_hosts(gateways: list[GatewayConfig]) -> set[str]:
    """Hosts result links may point to past the address rules: the gateways' own (the
    environment's, and the providers the owner added), and the ones the owner named
    (GAITU_FETCH_ALLOW_HOSTS)."""
    own = {urlsplit(gateway.base_url).hostname or "" for gateway in gateways}
    return {*settings.GAITU_FETCH_ALLOW_HOSTS, *own} - {""}


def offered_models(*, ask_gateway: bool = False) -> list[str]:
    """The configured models first, then what the gateway itself lists (cached ten minutes),
    then the providers' models.

    Only a request that may wait (the picker's own, loaded after the page) asks the gateway;
    everything else uses what is cached.
    """
    listed = cache.get(GATEWAY_MODELS_CACHE)
    if listed is None and ask_gateway and not settings.GAITU_DEMO:
        listed = list_models(configured_gateway())
        cache.set(GATEWAY_MODELS_CACHE, listed, 600 if listed else 60)
    return list(dict.fromkeys([*settings.GAITU_MODELS, *(listed or []), *provider_models()]))


def provider_models() -> list[str]:
    """What the providers the owner added serve, in their order."""
    return [
        model
        for names in Provider.objects.filter(enabled=True).values_list("model_names", flat=True)
        for model in names
    ]
