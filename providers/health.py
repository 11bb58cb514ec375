"""How each provider has been doing: its calls of the last day (ProviderCall), as figures for
the health page, and the pruning that keeps no more than that.

Each figure set is one query over every provider at once (counts, times, last failures), so
the page costs the same with one provider or twenty."""

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from statistics import median

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from editor.failures import failure_message
from editor.model_options import style_for
from gateway import transport_for
from gateway.failures import Failure, GatewayFailure
from gateway.fallback import Route
from gateway.retries import send_with_retries
from gateway.transport import ImageRequest

from .models import Provider, ProviderCall
from .routing import environment_route, provider_route, record_call
from .secrets import KeyUnreadable

WINDOW = timedelta(days=1)  # what the page looks at, and how long a call is kept
DETAIL_SHOWN = 160  # characters of a provider's own words shown after a failure's sentence


@dataclass(frozen=True)
class LastFailure:
    code: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class Health:
    """One provider's last day; provider_id None is the environment's gateway."""

    provider_id: int | None
    calls: int = 0
    succeeded: int = 0
    tests: int = 0
    median_seconds: float | None = None
    last_failure: LastFailure | None = None

    @property
    def success_percent(self) -> int | None:
        return round(100 * self.succeeded / self.calls) if self.calls else None


def recent_calls(now: datetime | None = None) -> QuerySet[ProviderCall]:
    return ProviderCall.objects.filter(at__gte=(now or timezone.now()) - WINDOW)


def counts(calls: QuerySet[ProviderCall]) -> dict[int | None, dict[str, int]]:
    """Calls, successes and tests, by provider: one grouped query."""
    rows = (
        calls.order_by()
        .values("provider_id")
        .annotate(
            calls=Count("pk"),
            succeeded=Count("pk", filter=Q(failure_code="")),
            tests=Count("pk", filter=Q(is_test=True)),
        )
    )
    return {
        row["provider_id"]: {k: row[k] for k in ("calls", "succeeded", "tests")} for row in rows
    }


def median_seconds(calls: QuerySet[ProviderCall]) -> dict[int | None, float]:
    """The median time of a call, by provider: one query reading the times (a day of them).
    Neither SQLite nor Django has a median aggregate; a day's rows are few enough."""
    times: dict[int | None, list[float]] = {}
    for provider_id, seconds in calls.order_by().values_list("provider_id", "seconds"):
        times.setdefault(provider_id, []).append(seconds)
    return {provider_id: median(values) for provider_id, values in times.items()}


def last_failures(calls: QuerySet[ProviderCall]) -> dict[int | None, LastFailure]:
    """Each provider's latest failure: one query, the first failed row of each provider's
    rows newest first (a window function, which SQLite and PostgreSQL both have)."""
    latest = (
        calls.exclude(failure_code="")
        .annotate(
            newest=Window(RowNumber(), partition_by=[F("provider_id")], order_by=F("at").desc())
        )
        .filter(newest=1)
        .values_list("provider_id", "failure_code", "failure_detail", "at")
    )
    return {provider_id: LastFailure(code, detail, at) for provider_id, code, detail, at in latest}


def health_by_provider(now: datetime | None = None) -> dict[int | None, Health]:
    """Every provider that was called in the last day (None: the environment's gateway) with
    its figures; three queries whatever the number of providers or calls."""
    calls = recent_calls(now)
    numbers = counts(calls)
    medians = median_seconds(calls)
    failures = last_failures(calls)
    return {
        provider_id: Health(
            provider_id,
            **numbers[provider_id],
            median_seconds=medians.get(provider_id),
            last_failure=failures.get(provider_id),
        )
        for provider_id in numbers
    }


def prune(now: datetime | None = None) -> int:
    """Forget the calls older than the window; how many went. The health page calls it each
    time it is drawn, the workers' sweep (worker/recovery.py) every few minutes, and
    `manage.py prune_provider_calls` by hand."""
    cutoff = (now or timezone.now()) - WINDOW
    return ProviderCall.objects.filter(at__lt=cutoff).delete()[0]


# --- A test request -------------------------------------------------------------------------

TEST_INSTRUCTION = "a small blue square"
# A test waits at most this long for its picture, whatever an edit may wait: the owner is
# looking at the page.
TEST_TIMEOUT = 90.0


@dataclass(frozen=True)
class TrialResult:
    ok: bool
    seconds: float = 0.0
    sentence: str = ""  # what went wrong, in the reader's language


@sensitive_variables("route", "config")
def try_provider(provider: Provider | None) -> TrialResult:
    """One small real request through one provider (None: the environment's gateway): its
    first model asked for a picture from words alone, once, with no retry and no fallback,
    recorded as a test call. A picture is what an edit needs, so a picture is what is asked:
    a list of models would not show that the key, the model and the API all work."""
    models = provider.model_names if provider else settings.GAITU_MODELS
    if not models:
        return TrialResult(
            False, sentence=str(_("List a model for it first: the test asks its first model."))
        )
    model = models[0]
    try:
        route = provider_route(provider, model) if provider else environment_route(model)
    except KeyUnreadable:
        return TrialResult(
            False,
            sentence=str(_("Its key can no longer be decrypted: type it again on its page.")),
        )
    config = replace(
        route.config,
        max_attempts=1,
        read_timeout=min(route.config.read_timeout, TEST_TIMEOUT),
        total_timeout=min(route.config.total_timeout, TEST_TIMEOUT),
    )
    route = Route(route.name, config, transport_for(config), route.key)
    request = ImageRequest(model=model, instruction=TEST_INSTRUCTION, style=style_for(model))
    started = time.monotonic()
    try:
        outcome = send_with_retries(route.transport, request, max_attempts=1)
    except GatewayFailure as exc:
        seconds = time.monotonic() - started
        record_call(route, model, seconds, exc.failure, is_test=True)
        return TrialResult(False, seconds, failure_sentence(exc.failure))
    seconds = time.monotonic() - started
    # As an edit's call is recorded: the provider answered, even when without a picture.
    record_call(route, model, seconds, None, is_test=True)
    if outcome.reply.failure:
        return TrialResult(False, seconds, failure_sentence(outcome.reply.failure))
    if not outcome.reply.images:
        return TrialResult(False, seconds, str(failure_message("refused", "empty")))
    return TrialResult(True, seconds)


def failure_sentence(failure: Failure) -> str:
    """The failure's sentence, then the provider's own words, trimmed."""
    sentence = str(failure_message(failure.code, failure.reason))
    detail = trimmed(failure.detail)
    return f"{sentence} ({detail})" if detail else sentence


def trimmed(detail: str) -> str:
    detail = " ".join(detail.split())
    return detail if len(detail) <= DETAIL_SHOWN else detail[: DETAIL_SHOWN - 1] + "…"
