"""The owner's providers pages in real headless Chromium: a provider added with its models
asked from a gateway on a local socket (htmx), a second one moved above it, a model's order
changed; the pages on a phone and a desktop, light and dark, audited by axe-core. And the key
typed is nowhere in the pages afterwards."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.providers.gateways import ListingGateway, error_reply
from tests.support.accessibility import add_axe, assert_accessible
from tests.support.browser import log_in
from tests.support.live import PASSWORD, Gaitu, running_gaitu
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    Contexts,
    browser,
    contexts,
)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
KEY = "sk-browser-canary-8Hq3"
OWNER_CODE = f"""
from django.contrib.auth.models import User
User.objects.create_superuser("boss", "boss@example.com", {PASSWORD!r})
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Gaitu]:
    with running_gaitu(
        tmp_path_factory.mktemp("providers"), GAITU_DEMO_LATENCY="0", GAITU_RATE_LIMIT="0"
    ) as gaitu:
        gaitu.manage("shell", "-c", OWNER_CODE)
        yield gaitu


@pytest.fixture(scope="module")
def listing() -> Iterator[ListingGateway]:
    # It lists its models, and answers every request for a picture with an error.
    down = error_reply(503, "This relay is down for maintenance")
    with ListingGateway(down, listed=["gpt-image-1", "nano-banana", "seedream-4"]) as gateway:
        yield gateway


def owner_page(live: Gaitu, contexts: Contexts, **options) -> Page:
    context = contexts.new(**options)
    add_axe(context)
    page = context.new_page()
    log_in(page, live.url, "boss", PASSWORD)
    return page


# The elements that reach past the window's right edge, for a message (not those in a box
# that scrolls sideways on its own).
PAST_THE_EDGE_JS = """(edge) => [...document.querySelectorAll("body *")]
  .filter((element) => element.getBoundingClientRect().right > edge + 1)
  .filter((element) => !element.parentElement.closest(".table-scroll"))
  .slice(0, 8)
  .map((element) => {
    const right = element.getBoundingClientRect().right;
    return `${element.tagName.toLowerCase()}.${element.className} ${right}`;
  })"""


def expect_no_sideways_scroll(page: Page) -> None:
    """The page fits the window: only a table's own box may scroll sideways."""
    edge = page.viewport_size["width"]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= edge, (page.url, width, page.evaluate(PAST_THE_EDGE_JS, edge))


@pytest.mark.browser
def test_the_owner_adds_a_provider_asks_its_models_and_orders_them(live, listing, contexts):
    page = owner_page(live, contexts)
    page.locator("details.menu > summary").click()
    page.get_by_role("link", name="Providers").click()
    expect(page).to_have_url(re.compile(r"/providers/$"))
    environment = page.locator(".environment-row")
    expect(environment).to_contain_text("demo")
    expect(environment).to_contain_text("set in the environment")
    expect(environment.get_by_role("link")).to_have_count(0)  # no Edit, no Delete
    assert_accessible(page, "the providers list with the environment only")

    page.get_by_role("link", name="Add a provider").click()
    page.get_by_label("Name").fill("Cloud")
    page.get_by_label("Base URL").fill(f"{listing.url}/v1")
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("Models", exact=True).fill("my-own-model")
    page.get_by_role("button", name="Ask the provider").click()
    boxes = page.locator("#provider-models input[type=checkbox]")
    expect(boxes).to_have_count(3)
    expect(page.locator("#provider-models [role=status]")).to_have_text(
        "It lists 3 models: tick the ones to use."
    )
    assert listing.listings[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in listing.listings[-1]["path"]
    expect(page.get_by_label("API key")).to_have_value(KEY)  # the part drawn again left it be
    page.get_by_label("nano-banana").check()
    page.get_by_label("gpt-image-1").check()
    assert_accessible(page, "the provider form with the models it listed")
    page.get_by_role("button", name="Add", exact=True).click()

    expect(page.locator(".messages")).to_contain_text("Added “Cloud”.")
    cloud = page.locator("tr", has_text="Cloud")
    expect(cloud).to_contain_text("gpt-image-1, nano-banana, my-own-model")

    # A second provider, typed by hand, then moved above the first.
    page.get_by_role("link", name="Add a provider").click()
    page.get_by_label("Name").fill("Spare")
    page.get_by_label("Base URL").fill("https://spare.example.net")
    page.get_by_label("API key").fill("sk-spare")
    page.get_by_label("Models", exact=True).fill("nano-banana")
    page.get_by_role("button", name="Add", exact=True).click()
    rows = page.locator(".provider-table tbody th[scope=row]")
    expect(rows).to_have_text(["demo", "Cloud", "Spare"])
    page.locator("tr", has_text="Spare").get_by_role("button", name="Move up").click()
    expect(rows).to_have_text(["demo", "Spare", "Cloud"])

    # nano-banana: by default (the demo, and providers serve it) Spare then Cloud.
    page.get_by_role("link", name="Order by model").click()
    section = page.locator("#order-nano-banana")
    steps = section.locator(".order-name")
    expect(steps).to_have_text(["Spare", "Cloud"])
    expect(section).to_contain_text("Default order")
    section.locator(".order-step", has_text="Cloud").get_by_role("button", name="Move up").click()
    section = page.locator("#order-nano-banana")
    expect(section.locator(".order-name")).to_have_text(["Cloud", "Spare"])
    expect(section.get_by_role("button", name="Use the default order")).to_be_visible()
    assert_accessible(page, "each model's order")

    # The key typed is in none of the pages now.
    for path in ["/providers/", "/providers/order/", "/providers/health/", "/admin/"]:
        answer = page.request.get(f"{live.url}{path}")
        assert answer.ok and KEY not in answer.text(), path
    page.goto(f"{live.url}/providers/")
    page.locator("tr", has_text="Cloud").get_by_role("link", name="Edit").click()
    expect(page.get_by_text("A key is stored; type a new one to replace it.")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_value("")
    assert KEY not in page.content()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("device", "scheme"),
    [("phone", "dark"), ("phone", "light"), ("desktop", "dark")],
)
def test_the_providers_pages_on_a_phone_and_a_desktop_light_and_dark(
    live, listing, contexts, device, scheme
):
    options = {**(PHONE if device == "phone" else {}), "color_scheme": scheme}
    page = owner_page(live, contexts, **options)
    where = f"on a {device}, {scheme}"
    for path, what in [
        ("/providers/", "the providers list"),
        ("/providers/add/", "the provider form"),
        ("/providers/order/", "each model's order"),
        ("/providers/health/", "the providers' health"),
    ]:
        page.goto(f"{live.url}{path}")
        expect(page.locator("main h1")).to_be_visible()
        expect_no_sideways_scroll(page)
        assert_accessible(page, f"{what} {where}")

    # The models asked for on a phone too, and the page still fits.
    page.goto(f"{live.url}/providers/add/")
    page.get_by_label("Base URL").fill(listing.url)
    page.get_by_label("API key").fill("sk-phone")
    page.get_by_role("button", name="Ask the provider").click()
    expect(page.locator("#provider-models input[type=checkbox]")).to_have_count(3)
    expect_no_sideways_scroll(page)
    assert_accessible(page, f"the provider form with listed models {where}")


@pytest.mark.browser
def test_asking_without_scripts_and_a_failing_test_on_the_health_page(live, listing, contexts):
    context = contexts.new(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live.url, "boss", PASSWORD)
    page.goto(f"{live.url}/providers/add/")
    page.get_by_label("Name").fill("Offline")
    page.get_by_label("Base URL").fill(listing.url)
    page.get_by_label("API key").fill("sk-offline")
    page.get_by_role("button", name="Ask the provider").click()
    expect(page.locator("#provider-models input[type=checkbox]")).to_have_count(3)
    expect(page.get_by_label("Name")).to_have_value("Offline")
    expect(page.get_by_label("API key")).to_have_value("")  # never drawn back: typed again
    page.get_by_label("API key").fill("sk-offline")
    page.get_by_label("seedream-4").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Added “Offline”.")

    # The provider answers no POST: its test fails, and the page says how.
    page.get_by_role("link", name="Health").click()
    row = page.locator("tr", has_text="Offline")
    row.get_by_role("button", name="Test").click()
    expect(page.locator(".messages .flash.error")).to_contain_text("Offline:")
    expect(page.locator(".messages .flash.error")).to_contain_text("down for maintenance")
    row = page.locator("tr", has_text="Offline")
    expect(row).to_contain_text("1")
    expect(row).to_contain_text("0%")

    # Delete asks first, on a page of its own.
    page.goto(f"{live.url}/providers/")
    page.locator("tr", has_text="Offline").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete “Offline”?")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".messages")).to_contain_text("Deleted “Offline”.")
    expect(page.locator("tr", has_text="Offline")).to_have_count(0)
