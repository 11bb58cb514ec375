"""Which providers a model is asked through, in order, as gateway.fallback routes; and each
call's record for the providers' health."""

from dataclasses import replace
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from editor.gateways import configured_gateway, request_settings
from gateway import transport_for
from gateway.config import GatewayConfig
from gateway.failures import Failure
from gateway.fallback import Route
from gateway.transports import transport_of

from .models import ModelRoute, Provider, ProviderCall
from .order import default_order
from .secrets import KeyUnreadable


def environment_name() -> str:
    """The environment's gateway as people see it among the providers: the demo, or its host."""
    if settings.GAITU_DEMO:
        return "demo"
    return urlsplit(settings.GAITU_API_BASE or "https://api.openai.com").hostname or "environment"


# With no GAITU_MODEL_TRANSPORTS, the demo gateway's Gemini model goes through Gemini's own API,
# so that `make run` shows all three APIs (its other two go by their names: chat, images).
DEMO_TRANSPORTS = {"gemini-2.5-flash-image": "gemini"}


def environment_config(model: str) -> GatewayConfig:
    """The environment's gateway, spoken to for `model` through the API its settings name."""
    config = configured_gateway()
    transport = transport_of(
        model, config.base_url, settings.GAITU_TRANSPORT, environment_transports()
    )
    return replace(config, transport=transport, name=environment_name())


def environment_transports() -> dict[str, str]:
    """The API per model for the environment's gateway: GAITU_MODEL_TRANSPORTS, or the demo's."""
    return settings.GAITU_MODEL_TRANSPORTS or (DEMO_TRANSPORTS if settings.GAITU_DEMO else {})


def provider_config(provider: Provider, model: str) -> GatewayConfig:
    """A provider's settings for one request: the environment's timeouts and limits, its own
    place, key and API. Raises KeyUnreadable when its key can no longer be decrypted."""
    # The deployment's extra fields (GAITU_EXTRA_BODY) are for its own gateway; not sent here.
    return GatewayConfig(
        provider.base_url,
        provider.key(),
        transport=transport_of(model, provider.base_url, provider.transport),
        name=provider.name,
        gemini_key_in=provider.gemini_key_in,
        **request_settings(),
    )


def environment_route(model: str) -> Route:
    config = environment_config(model)
    return Route(config.name, config, transport_for(config))


def provider_route(provider: Provider, model: str) -> Route:
    config = provider_config(provider, model)
    return Route(provider.name, config, transport_for(config), key=str(provider.pk))


def routes_for(model: str) -> list[Route]:
    """The providers to ask for `model`, in order.

    The owner's order for the model when one is set; else the environment's gateway first
    (unless it is only the built-in demo and a provider serves the model), then each enabled
    provider that lists the model. A provider whose key cannot be read is left out.
    """
    routes: list[Route] = []
    for provider in providers_for(model):
        if provider is None:
            routes.append(environment_route(model))
            continue
        try:
            routes.append(provider_route(provider, model))
        except KeyUnreadable:
            continue
    return routes or [environment_route(model)]


def providers_for(model: str) -> list[Provider | None]:
    """The providers routes_for asks, in order (None: the environment's gateway)."""
    steps = list(
        ModelRoute.objects.filter(model=model).select_related("provider").order_by("position")
    )
    if steps:
        return [step.provider for step in steps if step.provider is None or step.provider.enabled]
    return default_order(model, list(Provider.objects.filter(enabled=True)))


def first_transport(model: str) -> str:
    """The API the model's first provider speaks: what a card says about a mask. From the
    settings and the providers alone: no key is decrypted, and no demo gateway started in a
    web process."""
    first = next(iter(providers_for(model)), None)
    if first is not None:
        return transport_of(model, first.base_url, first.transport)
    base = "" if settings.GAITU_DEMO else settings.GAITU_API_BASE
    return transport_of(model, base, settings.GAITU_TRANSPORT, environment_transports())


def record_call(
    route: Route, model: str, seconds: float, failure: Failure | None, *, is_test: bool = False
) -> None:
    ProviderCall.objects.create(
        provider_id=int(route.key) if route.key else None,
        model=model,
        at=timezone.now(),
        seconds=seconds,
        failure_code=failure.code if failure else "",
        failure_detail=(failure.detail if failure else "")[:300],
        is_test=is_test,
    )
