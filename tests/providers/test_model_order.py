"""Each model's order of providers: the default said when none is set, written down on the
first change, moved, removed and reset; and the order routing follows is the one shown."""

import pytest
from django.urls import reverse

from providers.models import ModelRoute
from providers.routing import routes_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def remote(settings):
    """The environment's gateway is a real one (no demo), so it comes first by default."""
    settings.GAITU_DEMO = False
    settings.GAITU_API_BASE = "https://relay.example.org/v1"
    settings.GAITU_API_KEY = "sk-environment"
    settings.GAITU_MODELS = ["gpt-4o-image"]


def change(boss, model: str, provider: str, action: str):
    return boss.post(
        reverse("model_order_change"), {"model": model, "provider": provider, "action": action}
    )


def order_of(model: str) -> list[str]:
    return [route.name for route in routes_for(model)]


def test_every_model_is_listed_with_its_default_order_explained(boss, make_provider, remote):
    make_provider("Cloud", model_names=["gpt-4o-image", "nano-banana"])
    make_provider("Spare", model_names=["nano-banana"], enabled=False)
    page = boss.get(reverse("model_order")).text
    assert "With no order set, a model goes to the environment's gateway" in page
    assert page.count("Default order") == 2  # gpt-4o-image, and nano-banana from a provider
    section = page[page.index('id="order-nano-banana"') :]
    # The environment first, then the enabled providers listing the model; not the one off.
    assert section.index("relay.example.org") < section.index("Cloud")
    assert "Spare" not in section.split("</ol>")[0]


def test_in_demo_mode_the_default_says_providers_come_first(boss, make_provider, settings):
    settings.GAITU_DEMO = True
    page = boss.get(reverse("model_order")).text
    assert "only a model none of them lists goes to the built-in demo" in page


def test_the_first_change_writes_the_default_down_then_changes_it(boss, make_provider, remote):
    cloud = make_provider("Cloud", model_names=["gpt-4o-image"])
    spare = make_provider("Spare")
    assert order_of("gpt-4o-image") == ["relay.example.org", "Cloud"]

    change(boss, "gpt-4o-image", str(cloud.pk), "up")
    assert order_of("gpt-4o-image") == ["Cloud", "relay.example.org"]
    change(boss, "gpt-4o-image", str(spare.pk), "add")
    assert order_of("gpt-4o-image") == ["Cloud", "relay.example.org", "Spare"]
    change(boss, "gpt-4o-image", str(spare.pk), "add")  # twice: still once
    assert order_of("gpt-4o-image") == ["Cloud", "relay.example.org", "Spare"]
    change(boss, "gpt-4o-image", "environment", "down")
    assert order_of("gpt-4o-image") == ["Cloud", "Spare", "relay.example.org"]
    change(boss, "gpt-4o-image", "environment", "remove")
    assert order_of("gpt-4o-image") == ["Cloud", "Spare"]
    assert list(
        ModelRoute.objects.filter(model="gpt-4o-image").values_list("provider__name", "position")
    ) == [("Cloud", 0), ("Spare", 1)]

    page = boss.get(reverse("model_order")).text
    assert "Use the default order" in page
    response = boss.post(reverse("model_order_reset"), {"model": "gpt-4o-image"})
    assert response.url.endswith("#order-gpt-4o-image")
    assert order_of("gpt-4o-image") == ["relay.example.org", "Cloud"]
    assert not ModelRoute.objects.exists()


def test_a_model_only_a_provider_knows_can_be_given_the_environment(boss, make_provider, remote):
    make_provider("Cloud", model_names=["nano-banana"])
    change(boss, "nano-banana", "environment", "remove")
    assert order_of("nano-banana") == ["Cloud"]
    change(boss, "nano-banana", "environment", "add")
    assert order_of("nano-banana") == ["Cloud", "relay.example.org"]


def test_a_change_naming_no_such_provider_changes_nothing(boss, remote):
    response = change(boss, "gpt-4o-image", "999", "add")
    assert response.status_code == 302
    assert not ModelRoute.objects.exists()
