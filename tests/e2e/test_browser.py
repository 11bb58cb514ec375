"""The newcomer's path in real headless Chromium against a running Gaitu."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser as browser  # a fixture, found by name
from tests.support.browser import log_in
from tests.support.factories import image_bytes
from tests.support.live import PASSWORD, ROOT, running_gaitu

SCREENSHOTS = ROOT / "data" / "screenshots"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(tmp_path_factory.mktemp("browser"), GAITU_DEMO_LATENCY="3") as gaitu:
        yield gaitu


@pytest.mark.browser
def test_newcomer_edits_a_picture(live, browser, tmp_path):
    live_url = live.url
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(image_bytes((640, 480), quality=90))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 860})

    page.goto(live_url)
    expect(page).to_have_url(f"{live_url}/setup/")
    page.fill("#id_username", "mei")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("button[type=submit].primary").click()
    expect(page).to_have_url(f"{live_url}/")
    expect(page.locator(".badge.demo")).to_be_visible()

    page.set_input_files("#id_images", str(photo))
    expect(page.locator("[data-previews] img")).to_have_count(1)
    page.fill("#id_instruction", "把这张照片变成黑白")
    page.locator("#upload-form button[type=submit]").click()

    card = page.locator(".edit-card").first
    expect(card).to_contain_text("把这张照片变成黑白")
    expect(card.locator("progress")).to_be_visible(timeout=5000)
    page.screenshot(path=SCREENSHOTS / "studio-progress.png")

    result = card.locator("img[data-result]")
    expect(result).to_be_visible(timeout=30000)
    expect(card).to_have_attribute("data-status", "succeeded")
    assert result.evaluate("img => img.complete && img.naturalWidth") > 0
    page.screenshot(path=SCREENSHOTS / "studio-result.png")

    page.locator(".mainnav a").nth(1).click()
    tile = page.locator(".gallery-grid .tile").first
    expect(tile).to_contain_text("把这张照片变成黑白")
    expect(tile.locator("img")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "gallery.png")

    tile.locator("a").first.click()
    expect(page.locator(".pair img")).to_have_count(2)


@pytest.mark.browser
def test_a_bad_upload_is_explained_in_the_page(live, browser, tmp_path):
    live_url = live.url
    live.api("lin")
    page = browser.new_page(locale="en-US")
    log_in(page, live_url, "lin", PASSWORD)
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    page.set_input_files("#id_images", str(fake))
    page.fill("#id_instruction", "blur")
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#images-errors")).to_contain_text("not a picture")
