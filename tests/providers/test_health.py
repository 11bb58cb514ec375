"""The providers' health: a day of calls as figures (calls, success, median time, last
failure), three queries whatever the number of providers; old calls pruned; and the Test
button, a small real request to a gateway on a local socket, that works and that fails."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from providers import health
from providers.models import ProviderCall
from tests.support.reply_samples import PNG_URI
from tests.support.servers import free_port

from .gateways import ListingGateway, error_reply, picture_reply

pytestmark = pytest.mark.django_db


def call(provider, seconds: float, code: str = "", detail: str = "", ago: float = 1, **extra):
    return ProviderCall.objects.create(
        provider=provider,
        model="gpt-4o-image",
        at=timezone.now() - timedelta(hours=ago),
        seconds=seconds,
        failure_code=code,
        failure_detail=detail,
        **extra,
    )


@pytest.fixture
def seeded(make_provider):
    cloud = make_provider("Cloud")
    spare = make_provider("Spare")
    make_provider("Idle")
    for seconds in (4.0, 10.0, 6.0):
        call(cloud, seconds)
    call(cloud, 30.0, "timeout", "no answer in 30 s", ago=5)
    call(cloud, 1.0, "rate_limited", "Too many requests, slow down", ago=2, is_test=True)
    call(cloud, 99.0, "key_rejected", "from two days ago", ago=48)  # outside the day
    call(None, 2.0)
    call(None, 3.0, "gateway_error", "502 Bad Gateway", ago=3)
    call(spare, 7.0)
    return cloud, spare


def test_a_days_figures_per_provider(seeded, django_assert_num_queries):
    cloud, spare = seeded
    with django_assert_num_queries(3):
        figures = health.health_by_provider()
    assert set(figures) == {cloud.pk, spare.pk, None}  # "Idle" made no call
    mine = figures[cloud.pk]
    assert (mine.calls, mine.succeeded, mine.tests) == (5, 3, 1)
    assert mine.success_percent == 60
    assert mine.median_seconds == 6.0
    assert mine.last_failure.code == "rate_limited"  # the newer of the two failures
    assert mine.last_failure.detail == "Too many requests, slow down"
    environment = figures[None]
    assert (environment.calls, environment.success_percent, environment.median_seconds) == (
        2,
        50,
        2.5,
    )
    assert environment.last_failure.code == "gateway_error"
    assert figures[spare.pk].last_failure is None
    assert figures[spare.pk].success_percent == 100


def test_the_figures_cost_the_same_with_more_providers_and_calls(
    seeded, make_provider, django_assert_num_queries
):
    for number in range(6):
        extra = make_provider(f"More {number}")
        call(extra, 1.0)
        call(extra, 2.0, "timeout")
    with django_assert_num_queries(3):
        assert len(health.health_by_provider()) == 9


def test_the_health_page_shows_each_provider_and_prunes_the_old_calls(boss, seeded):
    page = boss.get(reverse("provider_health")).text
    assert ProviderCall.objects.filter(failure_detail="from two days ago").count() == 0
    cloud_row = page[page.index(">Cloud") : page.index(">Spare")]
    assert "60%" in cloud_row and "6.0 s" in cloud_row and "(1 test)" in cloud_row
    assert "rate_limited" in cloud_row
    assert "The gateway is busy or limiting requests." in cloud_row
    assert "Too many requests, slow down" in cloud_row
    environment_row = page[page.index(">demo") : page.index(">Cloud")]
    assert "50%" in environment_row and "502 Bad Gateway" in environment_row
    idle_row = page[page.index(">Idle") :]
    assert "none" in idle_row.split("</tr>")[0]


def test_the_health_page_costs_the_same_for_many_providers(
    boss, seeded, make_provider, django_assert_max_num_queries
):
    boss.get(reverse("provider_health"))  # sessions and the like, once
    with django_assert_max_num_queries(12) as few:
        boss.get(reverse("provider_health"))
    for number in range(8):
        call(make_provider(f"More {number}"), 1.0, "timeout")
    with django_assert_max_num_queries(len(few)):
        boss.get(reverse("provider_health"))


def test_prune_forgets_the_calls_older_than_a_day(seeded):
    assert health.prune() == 1
    assert health.prune() == 0
    call(None, 1.0, ago=30)
    call_command("prune_provider_calls", stdout=(out := __import__("io").StringIO()))
    assert "Deleted 1 call records" in out.getvalue()


# --- The Test button --------------------------------------------------------------------------


@pytest.fixture
def not_streamed(settings):
    settings.GAITU_STREAM = False  # the scripted replies are whole JSON bodies


def test_the_test_button_sends_a_small_real_request_and_says_it_went_well(
    boss, make_provider, not_streamed
):
    with ListingGateway(picture_reply(PNG_URI)) as gateway:
        cloud = make_provider(
            "Cloud", key="sk-test-ok", base_url=gateway.url, transport="chat",
            model_names=["gpt-4o-image", "other"],
        )  # fmt: skip
        response = boss.post(reverse("provider_test", args=[cloud.pk]), follow=True)
    assert len(gateway.requests) == 1
    sent = gateway.requests[0]
    assert sent["json"]["model"] == "gpt-4o-image"  # its first model
    assert "a small blue square" in str(sent["json"]["messages"])
    assert sent["headers"]["Authorization"] == "Bearer sk-test-ok"
    recorded = ProviderCall.objects.get()
    assert (recorded.provider, recorded.is_test, recorded.failure_code) == (cloud, True, "")
    assert "Cloud: ok in" in response.text
    assert "(1 test)" in response.text


def test_the_test_button_says_what_went_wrong_without_the_key(boss, make_provider, not_streamed):
    with ListingGateway(
        error_reply(401, "Incorrect API key provided: sk-test-wrong-1234.")
    ) as gateway:
        cloud = make_provider(
            "Cloud", key="sk-test-wrong-1234", base_url=gateway.url, transport="chat",
            model_names=["gpt-4o-image"],
        )  # fmt: skip
        response = boss.post(reverse("provider_test", args=[cloud.pk]), follow=True)
    assert len(gateway.requests) == 1  # once: no retry
    recorded = ProviderCall.objects.get()
    assert (recorded.is_test, recorded.failure_code) == (True, "key_rejected")
    assert "sk-test-wrong-1234" not in recorded.failure_detail
    assert "Cloud: The gateway rejected the API key." in response.text
    assert "sk-test-wrong-1234" not in response.text
    assert "Incorrect API key provided: sk-***" in response.text


def test_a_test_of_a_provider_nobody_answers_for(boss, make_provider, not_streamed):
    cloud = make_provider(
        "Cloud", base_url=f"http://127.0.0.1:{free_port()}", transport="chat",
        model_names=["gpt-4o-image"],
    )  # fmt: skip
    response = boss.post(reverse("provider_test", args=[cloud.pk]), follow=True)
    assert "Cloud: Could not connect to the gateway." in response.text
    assert ProviderCall.objects.get().failure_code == "connection_failed"


def test_a_provider_without_models_is_not_tested(boss, make_provider):
    cloud = make_provider("Cloud", model_names=[])
    response = boss.post(reverse("provider_test", args=[cloud.pk]), follow=True)
    assert "List a model for it first" in response.text
    assert not ProviderCall.objects.exists()


def test_the_environments_gateway_is_tested_too(boss, settings, not_streamed):
    with ListingGateway(picture_reply(PNG_URI)) as gateway:
        settings.GAITU_DEMO = False
        settings.GAITU_API_BASE = gateway.url
        settings.GAITU_API_KEY = "sk-environment"
        settings.GAITU_MODELS = ["gpt-4o-image"]
        response = boss.post(reverse("environment_test"), follow=True)
    assert len(gateway.requests) == 1
    assert "127.0.0.1: ok in" in response.text
    recorded = ProviderCall.objects.get()
    assert (recorded.provider, recorded.is_test) == (None, True)


def test_the_test_button_needs_a_post(boss, make_provider):
    cloud = make_provider("Cloud", model_names=["m"])
    assert boss.get(reverse("provider_test", args=[cloud.pk])).status_code == 405
