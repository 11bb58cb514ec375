"""An edit's card, its page and the gallery's tiles in real headless Chromium against a running
Gaitu: the picked result is the one every action acts on, the before/after is sharp and shaped
like the picture, a multi-picture edit shows its originals, and the tiles are labelled."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from tests.support.live import wait_for_edit
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    api_edit,
    browser,
    contexts,
    expect_loaded,
    live,
    newest_card,
    reload_studio,
    sign_in,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def srcset_of(picture) -> list[str]:
    return [candidate.strip() for candidate in picture.get_attribute("srcset").split(",")]


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


@pytest.mark.browser
def test_the_picked_result_is_the_one_downloaded_edited_again_and_opened(sign_in, live):
    page, client = sign_in("chooser")
    edit = api_edit(client, "two takes [demo:n=2]")
    assert len(edit["results"]) == 2
    reload_studio(page)
    card = newest_card(page, "two takes [demo:n=2]")
    picks = card.locator(".result-picker [data-show-result]")
    expect(picks).to_have_count(2)
    after = card.locator("img[data-after]")
    download = card.locator("a[data-download-result]")
    again = card.locator("a[data-again-link]")
    openers = card.locator(".pair [data-lightbox-open], .result-actions [data-lightbox-open]")
    media = f"/media/{edit['id']}/result"
    expect(download).to_have_attribute("href", f"{media}/0/download")
    expect(openers).to_have_count(2)

    picks.nth(1).click()
    expect(picks.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(picks.nth(0)).to_have_attribute("aria-pressed", "false")
    expect(after).to_have_attribute("src", f"{media}/1/display")
    assert f"{media}/1/" in after.get_attribute("srcset")
    assert f"{media}/0/" not in after.get_attribute("srcset")
    expect_loaded(after)
    expect(card.locator("a[data-after-link]")).to_have_attribute("href", f"{media}/1/full")
    expect(download).to_have_attribute("href", f"{media}/1/download")
    expect(again).to_have_attribute("href", f"/?again={edit['id']}:1")
    for n in range(2):
        expect(openers.nth(n)).to_have_attribute("data-lightbox-open", "1")

    # What the download link gives is the second result, byte for byte.
    picked = page.request.get(f"{live.url}{download.get_attribute('href')}").body()
    second = client.get(edit["results"][1]["url"]).content
    assert picked == second

    picks.nth(0).click()
    expect(download).to_have_attribute("href", f"{media}/0/download")
    expect(again).to_have_attribute("href", f"/?again={edit['id']}:0")
    expect(picks.nth(0)).to_have_attribute("aria-pressed", "true")


@pytest.mark.browser
def test_the_card_shows_a_sharp_rendition_never_a_stretched_thumbnail(sign_in, live):
    page, client = sign_in("sharp", device_scale_factor=2)
    edit = api_edit(client, "sharp please", image=image_bytes((2400, 1500), "PNG"))
    reload_studio(page)
    card = newest_card(page, "sharp please")
    for picture in (card.locator("img[data-before]"), card.locator("img[data-after]")):
        expect_loaded(picture)
        chosen = picture.evaluate("img => new URL(img.currentSrc).pathname")
        assert "/thumb" not in chosen, chosen
        # The size chosen has pixels enough for the screen's (its srcset gives each one's).
        widths = {url: int(w[:-1]) for url, w in (c.split() for c in srcset_of(picture))}
        shown = picture.evaluate("img => img.getBoundingClientRect().width * devicePixelRatio")
        assert shown > 480 * 1.5  # where a thumbnail would be stretched
        assert widths[chosen] >= min(shown, max(widths.values())), (chosen, widths, shown)
    # Its actions are buttons, "edit again" the main one.
    actions = card.locator(".result-actions")
    expect(actions.locator(".button.primary")).to_have_text("Edit this result again")
    for name in ("Download result", "Download original"):
        action = actions.get_by_role("link", name=name)
        assert "button" in action.get_attribute("class")
        assert box(action)["height"] >= 32
    assert edit["status"] == "succeeded"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("size", "options"),
    [((2400, 1500), {}), ((1000, 1600), PHONE)],
    ids=["landscape", "portrait-phone"],
)
def test_the_compare_stage_takes_the_pictures_shape(sign_in, live, size, options):
    page, client = sign_in(f"shape{size[0]}", **options)
    edit = api_edit(client, "fit the stage", image=image_bytes(size, "PNG"))
    result = edit["results"][0]
    page.goto(f"{live.url}/edits/{edit['id']}/")
    pair = page.locator(".edit-card .pair")
    expect(pair).to_have_attribute("data-view", "compare")
    expect_loaded(page.locator(".edit-card img[data-after]"))
    stage = box(pair)
    # No bands: the stage is as wide for its height as the picture, so the slider's line
    # (and the range that moves it) runs over the picture only.
    assert stage["width"] / stage["height"] == pytest.approx(
        result["width"] / result["height"], rel=0.02
    )
    assert box(page.locator(".edit-card [data-compare-range]")) == pytest.approx(stage, abs=1)
    viewport = page.viewport_size
    assert stage["height"] <= viewport["height"]  # shrinks to fit rather than overflow
    assert stage["width"] <= viewport["width"]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"]


@pytest.mark.browser
def test_a_multi_picture_edit_shows_all_its_originals(sign_in, live):
    page, client = sign_in("several")
    pictures = [image_bytes((90 + 10 * n, 60), "PNG", color=(40 * n, 90, 20)) for n in range(3)]
    files = [("image", (f"p{n}.png", data, "image/png")) for n, data in enumerate(pictures)]
    created = client.post("/api/v1/edits", data={"instruction": "three as one"}, files=files)
    assert created.status_code == 202, created.text
    wait_for_edit(client, created.json()["url"], timeout=EDIT_TIMEOUT / 1000)
    reload_studio(page)
    card = newest_card(page, "three as one")
    large = card.locator(".pair img[data-before]")
    expect_loaded(large)
    strip = card.locator(".source-strip img")
    expect(strip).to_have_count(2)
    for n in range(2):
        expect_loaded(strip.nth(n))
    assert box(large)["width"] > 2 * box(strip.first)["width"]  # the first large, the rest small
    expect(card.locator("[data-pending-source]")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("options", [{}, PHONE], ids=["desktop", "phone"])
def test_a_gallery_tile_labels_its_halves_and_shows_its_delete_button_whole(sign_in, live, options):
    page, client = sign_in("tiler" + ("phone" if options else ""), **options)
    edit = api_edit(client, "split me")
    page.goto(f"{live.url}/gallery/")
    tile = page.locator(f"#tile-{edit['id']}")
    halves = tile.locator(".tile-half")
    expect(halves).to_have_count(2)
    expect(halves.nth(0).locator(".tile-label")).to_have_text("Original")
    expect(halves.nth(1).locator(".tile-label")).to_have_text("Result")
    for n in range(2):
        expect_loaded(halves.nth(n).locator("img"))
    before, after = box(halves.nth(0)), box(halves.nth(1))
    assert after["x"] - (before["x"] + before["width"]) >= 1  # a divider between them
    delete = tile.get_by_role("link", name="Delete")
    whole, button = box(tile), box(delete)
    assert button["height"] >= 28
    assert button["x"] >= whole["x"] and button["y"] >= whole["y"]
    assert button["x"] + button["width"] <= whole["x"] + whole["width"]
    assert button["y"] + button["height"] <= whole["y"] + whole["height"]
    padding = delete.evaluate("a => parseFloat(getComputedStyle(a).paddingLeft)")
    assert padding > 0  # a button, not a bare link


@pytest.mark.browser
def test_a_canceled_edit_says_so_and_retry_shows_only_where_it_can_help(sign_in, live):
    page, client = sign_in("canceler")
    # A refused key: trying again cannot help, so the card offers no Retry.
    refused = api_edit(client, "the key is refused [demo:fail=401]")
    assert refused["status"] == "failed"
    running = api_edit(client, "a slow one [demo:latency=600]", wait=False)
    reload_studio(page)
    card = newest_card(page, "a slow one [demo:latency=600]")
    card.get_by_role("button", name="Cancel").click()
    card = page.locator(f"#edit-{running['id']}")
    expect(card).to_have_attribute("data-status", "canceled", timeout=EDIT_TIMEOUT)
    status = card.locator("[data-status-line]")
    expect(status).to_contain_text("Canceled")
    expect(status.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(card.get_by_role("button", name="Retry")).to_be_visible()

    failed = page.locator(f"#edit-{refused['id']}")
    expect(failed.locator("[data-error-code]")).to_have_attribute("data-error-code", "key_rejected")
    expect(failed.get_by_role("button", name="Retry")).to_have_count(0)

    card.get_by_role("button", name="Retry").click()  # a canceled edit can be taken up again
    again = page.locator(f"#edit-{running['id']}")
    expect(again).to_have_attribute("data-status", re.compile("^(queued|running)$"))
    again.get_by_role("button", name="Cancel").click()  # not left running for the next test
