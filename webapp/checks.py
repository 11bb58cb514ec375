"""System checks of the web server's settings (`manage.py check`; `manage.py serve` runs them
before it starts, and does not start on an error)."""

import math
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from editor.model_options import misconfigured
from gateway.transports import NAMES
from webapp.server_limits import parse_trusted_proxies

TIMEOUTS = ("GAITU_HEADER_TIMEOUT", "GAITU_BODY_TIMEOUT", "GAITU_KEEP_ALIVE_TIMEOUT")


@register(Tags.security)
def check_trusted_proxies(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    try:
        trusted = parse_trusted_proxies(settings.GAITU_TRUSTED_PROXIES)
    except ValueError as error:
        return [
            Error(
                f"GAITU_TRUSTED_PROXIES: {error}.",
                hint="List the addresses (or networks) your reverse proxy connects from, "
                "separated by commas.",
                id="gaitu.E001",
            )
        ]
    if settings.GAITU_HTTPS and not trusted:
        # The scheme comes only from a trusted proxy's X-Forwarded-Proto (security.py).
        if settings.GAITU_SSL_REDIRECT:
            consequence = "every request is redirected to https:// again, forever"
        else:
            consequence = (
                "HSTS is never sent, links say http://, and forms posted from https:// pages "
                "are refused"
            )
        return [
            Warning(
                "GAITU_HTTPS=1, but no GAITU_TRUSTED_PROXIES: no request can be seen to have "
                f"come over HTTPS, so {consequence}.",
                hint="Set GAITU_TRUSTED_PROXIES to the address of the TLS proxy in front of "
                "Gaitu (127.0.0.1 when it runs on the same machine).",
                id="gaitu.W001",
            )
        ]
    return []


@register()
def check_server_timeouts(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    return [
        Error(
            f"{name} must be a number of seconds above 0, not {getattr(settings, name)!r}.",
            hint="A timeout cannot be turned off: slow clients would then hold the server.",
            id="gaitu.E002",
        )
        for name in TIMEOUTS
        if not (math.isfinite(getattr(settings, name)) and getattr(settings, name) > 0)
    ]


@register()
def check_model_options(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    # A warning, not an error: the entry is left out and the model keeps its default style,
    # so edits still run; the owner should still hear that the setting did nothing.
    return [
        Warning(
            f"GAITU_MODEL_OPTIONS {problem}; the entry is ignored.",
            hint='Each entry is a model name (or pattern with "*") and an object of '
            '"size" (prompt, size, aspect_ratio, none), "n" (n, prompt, parallel) and '
            '"quality" (true or false).',
            id="gaitu.W010",
        )
        for problem in misconfigured()
    ]


@register()
def check_transports(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """GAITU_TRANSPORT and GAITU_MODEL_TRANSPORTS name an API Gaitu speaks. A warning: an
    unknown name falls back to the default by model name (gateway/transports.py)."""
    named = {"GAITU_TRANSPORT": settings.GAITU_TRANSPORT}
    named |= {
        f"GAITU_MODEL_TRANSPORTS[{model!r}]": value
        for model, value in settings.GAITU_MODEL_TRANSPORTS.items()
    }
    allowed = ("auto", *NAMES)
    return [
        Warning(
            f"{name} is {value!r}, which is not an API Gaitu speaks; the model's default is used.",
            hint=f"Use one of {', '.join(allowed)}.",
            id="gaitu.W011",
        )
        for name, value in named.items()
        if value not in allowed
    ]
