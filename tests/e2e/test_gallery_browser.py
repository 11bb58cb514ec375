"""The gallery, sharing, phone size, both languages and the Content Security Policy, in real
headless Chromium against a running Gaitu (see studio_browser.py for the shared set-up)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    VIOLATIONS_JS,
    api_edit,
    browser,
    contexts,
    drop_files,
    expect_loaded,
    expect_succeeded,
    live,
    newest_card,
    png,
    reload_studio,
    sign_in,
    submit,
)


@pytest.mark.browser
def test_gallery_search_filter_and_delete(sign_in, live):
    page, client = sign_in("curator")
    lake = api_edit(client, "mirror the lake")
    city = api_edit(client, "blur the city")
    broken = api_edit(client, "sharpen the forest [demo:fail=401]")
    assert (lake["status"], city["status"], broken["status"]) == ("succeeded",) * 2 + ("failed",)

    page.goto(f"{live.url}/gallery/")
    tiles = page.locator(".gallery-grid .tile")
    expect(tiles).to_have_count(3)

    page.fill("#gallery-q", "lake")
    expect(tiles).to_have_count(1)
    expect(tiles).to_contain_text("mirror the lake")
    expect(page).to_have_url(re.compile(r"[?&]q=lake"))
    page.fill("#gallery-q", "nothing like this")
    expect(page.locator("#gallery-results .empty")).to_be_visible()
    expect(tiles).to_have_count(0)
    page.fill("#gallery-q", "")
    expect(tiles).to_have_count(3)

    page.select_option("#gallery-status", "failed")
    expect(tiles).to_have_count(1)
    expect(tiles).to_contain_text("sharpen the forest")
    expect(tiles).to_have_attribute("data-status", "failed")
    page.select_option("#gallery-status", "succeeded")
    expect(tiles).to_have_count(2)
    page.select_option("#gallery-status", "")
    expect(tiles).to_have_count(3)

    asked = []

    def confirm(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.locator(f"#tile-{city['id']} .tile-meta a.danger").click()
    expect(page.locator(f"#tile-{city['id']}")).to_have_count(0)
    expect(tiles).to_have_count(2)
    assert asked == ["Delete this edit and its pictures? This cannot be undone."]
    assert client.get(f"/api/v1/edits/{city['id']}").status_code == 404
    page.reload()
    expect(tiles).to_have_count(2)


@pytest.mark.browser
def test_gallery_loads_more_tiles_when_scrolled_to_the_end(sign_in, live):
    page, client = sign_in("hoarder")
    tiny = image_bytes((16, 16), "PNG")
    for n in range(26):
        api_edit(client, f"tile {n} [demo:latency=0]", image=tiny, wait=False)

    page.goto(f"{live.url}/gallery/")
    tiles = page.locator(".gallery-grid .tile")
    expect(tiles).to_have_count(24)
    expect(tiles.first).to_contain_text("tile 25")
    more = page.locator(".gallery-grid li.more")
    expect(more).to_have_count(1)
    page.mouse.wheel(0, 100_000)
    expect(tiles).to_have_count(26)
    expect(more).to_have_count(0)
    expect(tiles.last).to_contain_text("tile 0")
    ids = tiles.evaluate_all("els => els.map(e => e.id)")
    assert len(set(ids)) == 26


# 8 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_share_a_result_and_stop_sharing(sign_in, contexts, live):
    page, client = sign_in("sharer")
    edit = api_edit(client, "brighter beach")
    reload_studio(page)
    card = newest_card(page, "brighter beach")
    card.locator(".share-form button[type=submit]").click()
    field = card.locator("[data-share-link]")
    expect(field).to_be_visible()
    link = field.input_value()
    assert re.fullmatch(rf"{re.escape(live.url)}/s/[\w-]+", link), link

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    card.locator("[data-copy]").click()
    expect(card.locator("[data-copy]")).to_have_text("✓")
    assert page.evaluate("() => navigator.clipboard.readText()") == link

    stranger = contexts.new().new_page()
    response = stranger.goto(link)
    assert response.status == 200
    expect(stranger.locator(".mainnav")).to_have_count(0)
    expect(stranger.locator("h1.instruction")).to_have_text("brighter beach")
    result = stranger.locator("img[data-result]")
    expect(result).to_be_visible()
    expect_loaded(result)
    og_image = stranger.locator('meta[property="og:image"]').get_attribute("content")
    assert og_image.startswith(f"{live.url}/s/"), og_image
    picture = stranger.request.get(og_image)
    assert picture.status == 200
    assert picture.headers["content-type"].startswith("image/")
    assert stranger.locator('meta[property="og:url"]').get_attribute("content") == link

    card.locator("form[action$='/unshare/'] button").click()
    expect(card.locator(".share-form")).to_be_visible()
    expect(card.locator("[data-share-link]")).to_have_count(0)
    assert client.get(f"/api/v1/edits/{edit['id']}").json()["share"] is None
    assert stranger.goto(link).status == 404
    assert stranger.request.get(og_image).status == 404


# 9 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_phone_size_in_chinese_then_english(sign_in, live):
    page, client = sign_in(
        "phone", locale="zh-CN", viewport={"width": 390, "height": 844},
        is_mobile=True, has_touch=True,
    )  # fmt: skip
    edit = api_edit(client, "把这张照片变成黑白 and a very long instruction " * 4)
    reload_studio(page)

    def fits() -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} scrolls sideways: {width} px wide"

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#upload-form h1")).to_have_text("生成图片")
    expect_loaded(page.locator(".edit-card img[data-result]"))
    fits()
    page.goto(f"{live.url}/gallery/")
    expect(page.locator(".gallery-grid .tile")).to_have_count(1)
    fits()
    page.goto(f"{live.url}/edits/{edit['id']}/")
    expect_loaded(page.locator(".edit-card img[data-result]"))
    fits()

    page.goto(f"{live.url}/")
    page.select_option("#language-select", "en")
    expect(page.locator("#upload-form h1")).to_have_text("Create a picture")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live.url}/")
    fits()
    page.select_option("#language-select", "zh-hans")
    expect(page.locator("#upload-form h1")).to_have_text("生成图片")


# 10 -----------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_full_flow_breaks_no_content_security_policy(sign_in, contexts, live):
    violations, console = [], []

    def watch(context) -> None:
        context.expose_binding("gaituViolation", lambda _source, report: violations.append(report))
        context.add_init_script(VIOLATIONS_JS)
        context.on("console", lambda message: console.append((message, message.page.url)))

    contexts.watchers.append(watch)  # from the login page on, and the stranger's too
    page, _client = sign_in("careful")

    page.set_input_files("#id_images", png("first.png"))
    drop_files(page, png("second.png", (64, 64)))
    expect(page.locator("[data-previews] img")).to_have_count(2)
    expect_loaded(page.locator("[data-previews] img").last)
    page.locator("[data-preset]").first.click()
    page.fill("#id_instruction", "watercolour and mirror")
    page.locator("#upload-form button[type=submit]").click()
    card = newest_card(page, "watercolour and mirror")
    expect(card.locator("progress")).to_be_visible()
    expect_succeeded(card)
    card.locator("[data-compare-range]").focus()
    page.keyboard.press("ArrowRight")
    card.locator("[data-toggle-view]").click()
    card.locator(".share-form button[type=submit]").click()
    link = card.locator("[data-share-link]").input_value()

    card.locator("a.again").click()
    page.fill("#id_instruction", "sketch")
    page.locator("#upload-form button[type=submit]").click()
    expect_succeeded(newest_card(page, "sketch"))

    page.goto(f"{live.url}/gallery/")
    page.fill("#gallery-q", "watercolour")
    expect(page.locator(".gallery-grid .tile")).to_have_count(1)
    page.locator(".gallery-grid .tile a").first.click()
    expect(page.locator(".edit-card img[data-result]")).to_be_visible()
    page.locator("a.danger[href$='/delete/']").click()
    expect(page.locator("main h1")).to_have_text("Delete this edit?")
    page.go_back()
    page.goto(f"{live.url}/account/")
    page.select_option("#language-select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    stranger = contexts.new().new_page()
    stranger.goto(link)
    expect_loaded(stranger.locator("img[data-result]"))

    assert violations == []
    complaints = [
        f"{message.type}: {message.text} at {message.location['url']} on {page_url}"
        for message, page_url in console
        if message.type in ("error", "warning")
    ]
    assert complaints == [], "\n".join(complaints)
