"""The share page as a landing page, in real headless Chromium against a running Gaitu: the
before/after slider on display-sized pictures, several originals labelled and several results
to pick from, Download following the pick, og:description, and none of the owner's chrome, on
a desktop and a phone, light and dark (see studio_browser.py for the shared set-up)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from tests.support.live import wait_for_edit
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    VIOLATIONS_JS,
    browser,
    contexts,
    expect_loaded,
    live,
)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
COLOURS = [(40, 90, 200), (200, 160, 30), (30, 150, 80), (150, 40, 150)]


def shared_edit(client, instruction: str, *, originals: int, **settings: str) -> tuple[dict, str]:
    """An edit of several pictures, finished and shared; it and its public link."""
    files = [
        ("image", (f"photo-{n}.png", image_bytes((800, 600), "PNG", color=colour), "image/png"))
        for n, colour in enumerate(COLOURS[:originals])
    ]
    response = client.post("/api/v1/edits", data={"instruction": instruction}, files=files)
    assert response.status_code == 202, response.text
    edit = wait_for_edit(client, response.json()["url"], timeout=EDIT_TIMEOUT / 1000)
    assert edit["status"] == "succeeded", edit
    shared = client.post(f"/api/v1/edits/{edit['id']}/share", data=settings)
    assert shared.status_code == 201, shared.text
    return edit, shared.json()["url"]


@pytest.fixture
def stranger(contexts):
    """Someone who was given the link: never signed in, a browser of their own. Content
    Security Policy violations on their pages are collected."""
    violations: list[dict] = []

    def open_page(**options):
        context = contexts.new(**options)
        context.expose_binding("gaituViolation", lambda _source, report: violations.append(report))
        context.add_init_script(VIOLATIONS_JS)
        return context.new_page()

    yield open_page
    assert violations == []


def expect_no_chrome(page) -> None:
    """Nothing of the owner's instance: no header, no demo badge, no navigation, no language
    switch, no log-out button."""
    chrome = (".topbar", ".badge", "nav", "form.language", "select", "form[action$='/logout/']")
    for part in chrome:
        expect(page.locator(part)).to_have_count(0)


def fits_the_width(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url} scrolls sideways: {width} px in {viewport}"


@pytest.mark.browser
def test_a_shared_edit_of_four_pictures_compares_each_with_a_slider(live, stranger):
    client = live.api("sharer4")
    instruction = "warmer light on all four [demo:n=2]"
    _edit, link = shared_edit(client, instruction, originals=4)

    page = stranger()
    assert page.goto(link).status == 200
    page.wait_for_load_state("networkidle")
    expect_no_chrome(page)
    expect(page.locator("h1.instruction")).to_have_text(instruction)
    og = page.locator('meta[property="og:description"]')
    assert og.get_attribute("content") == instruction
    og_image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert og_image.startswith(f"{link}/result/0/")
    expect(page.locator(".made-with")).to_contain_text("Gaitu")

    # The slider: compare.js has set it up, and moving it moves the split.
    stage = page.locator("[data-shared-stage]")
    expect(stage).to_have_attribute("data-view", "compare")
    before, after = page.locator("img[data-before]"), page.locator("img[data-after]")
    expect_loaded(before)
    expect_loaded(after)
    # The display renditions, never a thumbnail stretched over the stage.
    assert before.evaluate("img => img.currentSrc").endswith("/source/0/display")
    assert after.evaluate("img => img.currentSrc").endswith("/result/0/display")
    split = """() => getComputedStyle(document.querySelector("[data-shared-stage]"))
      .getPropertyValue("--split").trim()"""
    assert page.evaluate(split) == "50%"
    page.locator("[data-compare-range]").focus()
    page.keyboard.press("End")
    assert page.evaluate(split) == "100%"
    # The stage is the result's shape: the slider's line never crosses empty bands.
    box = stage.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(800 / 600, rel=0.02)

    # Four originals, each labelled; picking one puts it in the slider.
    originals = page.locator('[data-pick="source"]')
    expect(originals).to_have_text([f"Original {n} of 4" for n in range(1, 5)])
    expect(originals.first).to_have_attribute("aria-pressed", "true")
    originals.nth(2).click()
    expect(originals.nth(2)).to_have_attribute("aria-pressed", "true")
    expect(originals.first).to_have_attribute("aria-pressed", "false")
    expect(before).to_have_attribute("alt", "Original 3 of 4")
    page.wait_for_function(
        "() => document.querySelector('img[data-before]').currentSrc.endsWith('/source/2/display')"
    )
    expect_loaded(before)
    expect(page.locator('[data-shared-download="source"]')).to_have_attribute(
        "href", re.compile(r"/source/2/download$")
    )

    # Two results; the picked one is the one Download gives and the full-size view opens.
    results = page.locator('[data-pick="result"]')
    expect(results).to_have_text(["Result 1 of 2", "Result 2 of 2"])
    download = page.locator('[data-shared-download="result"]')
    expect(download).to_have_attribute("href", re.compile(r"/result/0/download$"))
    results.nth(1).click()
    expect(results.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(download).to_have_attribute("href", re.compile(r"/result/1/download$"))
    page.wait_for_function(
        "() => document.querySelector('img[data-after]').currentSrc.endsWith('/result/1/display')"
    )
    with page.expect_download() as downloading:
        download.click()
    assert downloading.value.url.endswith("/result/1/download")
    assert re.search(r"-2\.\w+$", downloading.value.suggested_filename)  # the second result
    zoom = page.locator("[data-shared-zoom]")
    expect(zoom).to_have_attribute("data-lightbox-open", "1")
    zoom.click()
    expect(page.locator("dialog[data-lightbox]")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(page.locator("dialog[data-lightbox]")).not_to_have_attribute("open", "")


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_in_chinese_hidden_instruction_and_original(live, stranger, scheme):
    client = live.api(f"quiet-{scheme}")
    instruction = "secret plan for the party"
    edit, link = shared_edit(
        client, instruction, originals=2, show_original="0", show_instruction="0"
    )

    page = stranger(locale="zh-CN", color_scheme=scheme, **PHONE)
    assert page.goto(link).status == 200
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect_no_chrome(page)
    assert instruction not in page.content()
    description = page.locator('meta[property="og:description"]').get_attribute("content")
    assert description and "secret" not in description
    # No original shown: no slider, no originals to pick, the result on its own.
    expect(page.locator("[data-compare], img[data-before], [data-pick]")).to_have_count(0)
    after = page.locator("img[data-after]")
    expect_loaded(after)
    assert after.evaluate("img => img.currentSrc").endswith("/result/0/display")
    download = page.locator('[data-shared-download="result"]')
    expect(download).to_be_visible()
    expect(page.locator('[data-shared-download="source"]')).to_have_count(0)
    fits_the_width(page)
    # The picture and Download are on the first screen.
    assert download.bounding_box()["y"] + download.bounding_box()["height"] <= 844
    assert after.bounding_box()["width"] >= 360
    # The page follows the visitor's colour scheme.
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert (sum(channels) / 3 < 60) == (scheme == "dark"), background

    # Revoked: the page answers 404 at once.
    assert client.delete(f"/api/v1/edits/{edit['id']}/share").status_code == 204
    assert page.goto(link).status == 404
