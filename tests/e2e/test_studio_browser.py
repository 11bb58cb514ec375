"""The studio in real headless Chromium against a running Gaitu: giving pictures, progress,
the slider, and editing a result again.

One Gaitu (web server, worker and the demo gateway, 2 s per edit) and one browser serve the
whole module; every test signs in as a person of its own, so the tests don't depend on each
other or on their order.
"""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    DRAGGING,
    STAGE,
    api_edit,
    browser,
    card_id,
    chosen_names,
    contexts,
    drag_in,
    drop_files,
    expect_loaded,
    expect_succeeded,
    live,
    newest_card,
    png,
    preview_names,
    reload_studio,
    sign_in,
    specs,
    submit,
)


@pytest.mark.browser
def test_a_picture_dropped_anywhere_is_previewed_and_edited(sign_in):
    page, client = sign_in("dropper")
    body = page.locator("body")
    expect(body).not_to_have_class(DRAGGING)

    # Dragging over and away again leaves the page as it was.
    assert drag_in(page, png("passing.png"))
    expect(body).to_have_class(DRAGGING)
    page.evaluate("() => document.body.dispatchEvent(new DragEvent('dragleave', {bubbles: true}))")
    expect(body).not_to_have_class(DRAGGING)
    expect(page.locator("[data-previews] li")).to_have_count(0)

    drop_files(page, png("dropped.png"))
    expect(page.locator("[data-previews] li")).to_have_count(1)
    assert preview_names(page) == ["dropped.png"]
    assert chosen_names(page) == ["dropped.png"]
    expect_loaded(page.locator("[data-previews] img"))

    submit(page, "mirror the dropped picture")
    card = newest_card(page, "mirror the dropped picture")
    expect_succeeded(card)
    expect(page.locator("[data-previews] li")).to_have_count(0)  # a fresh form for the next
    [edit] = client.get("/api/v1/edits").json()["results"]
    assert edit["status"] == "succeeded"
    assert len(edit["sources"]) == 1


# 2 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_pasted_picture_is_previewed_but_pasted_text_stays_text(sign_in, live):
    page, _client = sign_in("paster")
    box = page.locator("#id_instruction")
    box.focus()
    taken = page.evaluate(
        """(specs) => !document.activeElement.dispatchEvent(new ClipboardEvent("paste", {
          bubbles: true, cancelable: true, clipboardData: gaituTransfer(specs) }))""",
        specs(png("pasted.png")),
    )
    assert taken, "the page should take a pasted picture instead of pasting it as text"
    expect(page.locator("[data-previews] li")).to_have_count(1)
    assert preview_names(page) == ["pasted.png"]
    expect(box).to_have_value("")

    # A real Ctrl+V of text from the system clipboard: the text lands in the box.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.evaluate("() => navigator.clipboard.writeText('make it grayscale')")
    box.focus()
    page.keyboard.press("Control+V")
    expect(box).to_have_value("make it grayscale")
    # And a synthetic paste of text only is left to the browser too.
    left_alone = page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.setData("text/plain", " please");
          return document.activeElement.dispatchEvent(new ClipboardEvent("paste", {
            bubbles: true, cancelable: true, clipboardData: data }));
        }"""
    )
    assert left_alone
    expect(page.locator("[data-previews] li")).to_have_count(1)
    assert chosen_names(page) == ["pasted.png"]

    page.locator("#upload-form button[type=submit]").click()
    expect_succeeded(newest_card(page, "make it grayscale"))


# 3 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_several_pictures_are_sent_in_the_order_shown(sign_in):
    page, client = sign_in("collector")
    previews = page.locator("[data-previews] li")
    page.set_input_files(
        "#id_images", [png("one.png", (90, 60)), png("two.png", (70, 70), (20, 150, 20))]
    )
    expect(previews).to_have_count(2)
    drop_files(page, png("three.png", (60, 90), (30, 30, 200)))
    expect(previews).to_have_count(3)
    assert preview_names(page) == ["one.png", "two.png", "three.png"]
    assert chosen_names(page) == ["one.png", "two.png", "three.png"]
    # Numbered by the list itself (an <ol> with a CSS counter), so order is what is shown.
    assert page.locator("[data-previews]").evaluate("el => el.tagName") == "OL"

    page.get_by_role("button", name="Remove two.png").click()
    expect(previews).to_have_count(2)
    assert preview_names(page) == ["one.png", "three.png"]
    assert chosen_names(page) == ["one.png", "three.png"]

    submit(page, "blur both")
    card = newest_card(page, "blur both")
    expect(card.locator(".before figcaption")).to_contain_text("2 pictures")
    [edit] = client.get("/api/v1/edits").json()["results"]
    assert len(edit["sources"]) == 2
    sizes = [Image.open(io.BytesIO(client.get(s["url"]).content)).size for s in edit["sources"]]
    assert sizes == [(90, 60), (60, 90)]
    expect_succeeded(card)

    # Checked in the page before anything is sent: too many pictures...
    error = page.locator("[data-client-error]")
    expect(error).to_be_hidden()
    page.set_input_files("#id_images", [png(f"many-{n}.png") for n in range(5)])
    expect(previews).to_have_count(4)
    expect(error).to_be_visible()
    expect(error).to_contain_text("At most 4 pictures at once.")
    assert chosen_names(page) == [f"many-{n}.png" for n in range(4)]
    page.get_by_role("button", name="Remove many-3.png").click()
    expect(error).to_be_hidden()

    # ...and something that is not a picture.
    reload_studio(page)
    page.set_input_files(
        "#id_images", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}
    )
    expect(error).to_contain_text("notes.txt is not a JPEG, PNG, WebP or GIF picture.")
    expect(previews).to_have_count(0)
    assert chosen_names(page) == []


# 4 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_progress_shows_until_the_result_arrives(sign_in):
    page, _client = sign_in("watcher")
    page.set_input_files("#id_images", png("slow.png"))
    # News of the running edit comes as server-sent events, not by asking twice a second.
    with page.expect_response(lambda r: r.request.resource_type == "eventsource") as stream:
        submit(page, "sepia, please")
    card = newest_card(page, "sepia, please")
    assert card.get_attribute("data-status") in ("queued", "running")
    assert card_id(card) in stream.value.url
    assert stream.value.headers["content-type"] == "text/event-stream"
    expect(card.locator("progress")).to_be_visible()
    expect(card.locator(".stage")).to_contain_text(STAGE)
    expect(card.locator(".placeholder.working")).to_be_visible()

    expect_succeeded(card)
    expect(card.locator("progress")).to_have_count(0)
    expect(card.locator(".stage")).to_have_count(0)
    expect(card.locator(".pair")).to_have_attribute("data-view", "compare")
    # The card has stopped asking for news.
    assert card.get_attribute("hx-trigger") is None


# 5 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_before_and_after_slider_and_ctrl_enter(sign_in):
    page, client = sign_in("slider")
    api_edit(client, "invert the colours")
    reload_studio(page)
    card = newest_card(page, "invert the colours")
    pair = card.locator(".pair")
    expect(pair).to_have_attribute("data-view", "compare")

    def split() -> str:
        return pair.evaluate("el => getComputedStyle(el).getPropertyValue('--split').trim()")

    assert split() == "50%"
    slider = card.locator("[data-compare-range]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_value("55")
    assert split() == "55%"
    for _ in range(8):
        page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("47")
    assert split() == "47%"
    page.keyboard.press("End")
    assert split() == "100%"
    page.keyboard.press("Home")
    assert split() == "0%"

    # The slider covers the pair: a click a quarter of the way across moves the split there.
    box = pair.bounding_box()
    slider.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    assert abs(int(slider.input_value()) - 25) <= 3
    assert split() == f"{slider.input_value()}%"

    toggle = card.locator("[data-toggle-view]")
    toggle.click()
    expect(pair).to_have_attribute("data-view", "side")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".before img")).to_be_visible()
    expect(card.locator(".after img")).to_be_visible()
    toggle.click()
    expect(pair).to_have_attribute("data-view", "compare")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    # Ctrl+Enter in the instruction sends the form.
    page.set_input_files("#id_images", png("keyboard.png"))
    page.fill("#id_instruction", "rotate by keyboard")
    page.locator("#id_instruction").press("Control+Enter")
    expect(page.locator(".edit-card")).to_have_count(2)
    expect_succeeded(newest_card(page, "rotate by keyboard"))


# 6 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_edit_the_result_again_and_follow_the_chain(sign_in, live):
    page, client = sign_in("chainer")
    first = api_edit(client, "grayscale first")
    reload_studio(page)
    newest_card(page, "grayscale first").locator("a.again").click()

    expect(page).to_have_url(f"{live.url}/?again={first['id']}:0")
    parent = page.locator("[data-parent] img")
    expect(parent).to_be_visible()
    expect_loaded(parent)
    assert page.locator("#id_parent").input_value() == f"{first['id']}:0"
    assert page.evaluate("() => document.activeElement.id") == "id_instruction"

    page.keyboard.type("mirror it afterwards")
    page.locator("#upload-form button[type=submit]").click()
    card = newest_card(page, "mirror it afterwards")
    expect_succeeded(card)
    second_id = card_id(card)
    expect(page.locator("[data-parent]")).to_have_count(0)  # the next form starts afresh
    assert page.locator("#id_parent").input_value() == ""

    card.locator("a.instruction").click()
    expect(page).to_have_url(f"{live.url}/edits/{second_id}/")
    chain = page.locator("nav.chain")
    expect(chain).to_contain_text("Made from the result of")
    chain.locator("a[rel=prev]").click()

    expect(page).to_have_url(f"{live.url}/edits/{first['id']}/")
    expect(chain).to_contain_text("Edited again as")
    expect(chain.locator("a[rel=prev]")).to_have_count(0)
    later = chain.locator("a[rel=next]")
    expect(later).to_have_text("mirror it afterwards")
    later.click()
    expect(page).to_have_url(f"{live.url}/edits/{second_id}/")


# 7 ------------------------------------------------------------------------------------------
