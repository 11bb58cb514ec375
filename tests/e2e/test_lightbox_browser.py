"""The lightbox (lightbox.js, studio/lightbox_items.html) in real headless Chromium against a
running Gaitu: the full-size pair asked for only when opened, zoom by the wheel, a double click,
the buttons and a pinch, panning, the before/after split and its toggle, the arrows between
results, Esc, and the share page's lightbox (see studio_browser.py for the shared set-up).

The pictures are large (2400×1600) so that the lightbox shows them smaller than they are and
zoom has room; the demo gateway's "invert" turns the original's red into cyan, so a pixel of
the screen says which picture is shown there.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.accessibility import add_axe, assert_accessible
from tests.support.factories import image_bytes
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    api_edit,
    browser,
    contexts,
    expect_loaded,
    live,
    newest_card,
    no_violations,
    reload_studio,
    sign_in,
)

# Wider than a display rendition (1600 px): the card shows that, never the full picture.
PICTURE = (2400, 1600)
PHONE = {"width": 390, "height": 844}
AFTER = "[data-lightbox-after]"
BEFORE = "[data-lightbox-before]"


def big_edit(client, instruction: str) -> dict:
    edit = api_edit(client, instruction, image=image_bytes(PICTURE, "PNG"))
    assert edit["status"] == "succeeded", edit
    return edit


def open_lightbox(card):
    """Open the card's lightbox with its "Full size" button; the dialog, once both loaded."""
    card.locator("button[data-lightbox-open]").click()
    dialog = card.locator("dialog.lightbox")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("open", "")
    expect_loaded(dialog.locator(AFTER))
    if dialog.locator(BEFORE).count():
        expect_loaded(dialog.locator(BEFORE))
    expect(dialog.locator("[data-lightbox-status]")).to_have_text("")
    return dialog


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def picture(dialog) -> dict:
    """Where the result picture is on the screen (transforms included)."""
    return box(dialog.locator(AFTER))


def wait_for_width(page, compare: str, width: float) -> None:
    """Until the shown result is wider (">"), narrower ("<") or as wide ("=") as `width`."""
    page.wait_for_function(
        """([compare, width]) => {
          const shown = document.querySelector("dialog[open] [data-lightbox-after]")
            .getBoundingClientRect().width;
          return compare === ">" ? shown > width + 1
            : compare === "<" ? shown < width - 1 : Math.abs(shown - width) < 1;
        }""",
        arg=[compare, width],
    )


def fraction_under(point: tuple[float, float], shown: dict) -> tuple[float, float]:
    """Which point of the picture (as fractions of its width and height) is under `point`."""
    return (point[0] - shown["x"]) / shown["width"], (point[1] - shown["y"]) / shown["height"]


def colour_at(page, x: float, y: float) -> tuple[int, int, int]:
    shot = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    red, green, blue = Image.open(io.BytesIO(shot)).convert("RGB").getpixel((0, 0))
    return red, green, blue


def is_original(colour: tuple[int, int, int]) -> bool:
    """The original's red (200, 40, 40), not the inverted result's cyan (55, 215, 215)."""
    red, _green, blue = colour
    return red > 150 and blue < 100


def is_result(colour: tuple[int, int, int]) -> bool:
    red, _green, blue = colour
    return red < 100 and blue > 150


def full_size_requests(page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    return asked


@pytest.mark.browser
def test_the_full_size_pair_is_asked_for_only_when_opened_and_esc_gives_the_focus_back(
    sign_in, live, no_violations
):
    page, client = sign_in("looker")
    edit = big_edit(client, "invert the colours")
    asked = full_size_requests(page)
    reload_studio(page)
    card = newest_card(page, "invert the colours")
    expect_loaded(card.locator("img[data-result]"))
    full = re.compile(rf"/media/{edit['id']}/(source|result)/0/full$")
    assert [url for url in asked if full.search(url)] == []

    opener = card.locator("button[data-lightbox-open]")
    dialog = open_lightbox(card)
    fetched = {full.search(url).group(1) for url in asked if full.search(url)}
    assert fetched == {"source", "result"}
    # The pictures themselves, at their own size, not a smaller rendition.
    sizes = dialog.locator("img").evaluate_all(
        "imgs => imgs.map(img => [img.naturalWidth, img.naturalHeight])"
    )
    result = edit["results"][0]
    assert sizes == [list(PICTURE), [result["width"], result["height"]]]
    expect(dialog).to_have_accessible_name(re.compile("Full size"))
    expect(page.locator("[data-lightbox-open]:focus")).to_have_count(0)  # the focus is inside

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    dialog = open_lightbox(card)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


@pytest.mark.browser
def test_the_wheel_a_double_click_and_the_buttons_zoom_and_a_drag_pans(sign_in, no_violations):
    page, client = sign_in("zoomer")
    edit = big_edit(client, "invert the lake")
    natural = edit["results"][0]["width"]  # the gateway was sent 2048 px at most
    reload_studio(page)
    dialog = open_lightbox(newest_card(page, "invert the lake"))
    fitted = picture(dialog)
    viewport = box(dialog.locator("[data-lightbox-viewport]"))
    assert fitted["width"] < natural  # the whole picture on the screen, smaller than it is
    assert fitted["x"] >= viewport["x"] and fitted["y"] >= viewport["y"]
    assert fitted["x"] + fitted["width"] <= viewport["x"] + viewport["width"] + 1
    scale = dialog.locator("[data-lightbox-scale]")
    expect(scale).to_have_text(f"{round(fitted['width'] / natural * 100)}%")

    # The wheel zooms in around the pointer: the picture's point under it stays under it.
    pointer = (fitted["x"] + fitted["width"] * 0.3, fitted["y"] + fitted["height"] * 0.6)
    page.mouse.move(*pointer)
    page.mouse.wheel(0, -300)
    wait_for_width(page, ">", fitted["width"])
    zoomed = picture(dialog)
    assert fraction_under(pointer, zoomed) == pytest.approx(
        fraction_under(pointer, fitted), abs=0.01
    )
    expect(scale).not_to_have_text(f"{round(fitted['width'] / natural * 100)}%")
    page.mouse.wheel(0, 3000)  # out as far as it goes: the whole picture again
    wait_for_width(page, "=", fitted["width"])

    # A double click zooms in twice as large at its point, and a second one goes back.
    page.mouse.dblclick(*pointer)
    wait_for_width(page, "=", fitted["width"] * 2)
    doubled = picture(dialog)
    assert fraction_under(pointer, doubled) == pytest.approx(
        fraction_under(pointer, fitted), abs=0.01
    )

    # Dragging the zoomed picture moves it with the pointer.
    page.mouse.move(*pointer)
    page.mouse.down()
    page.mouse.move(pointer[0] - 120, pointer[1] - 60, steps=6)
    page.mouse.up()
    dragged = picture(dialog)
    assert (dragged["x"], dragged["y"]) == pytest.approx(
        (doubled["x"] - 120, doubled["y"] - 60), abs=1
    )
    assert dragged["width"] == pytest.approx(doubled["width"], abs=1)

    page.mouse.dblclick(*pointer)
    wait_for_width(page, "=", fitted["width"])
    assert (picture(dialog)["x"], picture(dialog)["y"]) == pytest.approx(
        (fitted["x"], fitted["y"]), abs=1
    )

    # Not zoomed, a drag leaves the picture where it is.
    page.mouse.move(*pointer)
    page.mouse.down()
    page.mouse.move(pointer[0] - 120, pointer[1] - 60, steps=6)
    page.mouse.up()
    assert picture(dialog) == pytest.approx(fitted, abs=1)

    # The buttons and the keys, for people without a wheel or a mouse.
    zoom_in = dialog.get_by_role("button", name="Zoom in")
    fit = dialog.get_by_role("button", name="Fit")
    expect(fit).to_have_attribute("aria-disabled", "true")
    zoom_in.click()
    wait_for_width(page, ">", fitted["width"])
    expect(fit).to_have_attribute("aria-disabled", "false")
    fit.click()
    wait_for_width(page, "=", fitted["width"])
    expect(fit).to_be_focused()  # at its end, and the keys still reach the lightbox
    page.keyboard.press("+")
    page.keyboard.press("+")
    wait_for_width(page, ">", fitted["width"] * 2)
    page.keyboard.press("-")
    wait_for_width(page, "<", fitted["width"] * 2)
    page.keyboard.press("0")
    wait_for_width(page, "=", fitted["width"])


@pytest.mark.browser
def test_the_split_follows_its_handle_and_the_keys_at_every_zoom_and_the_toggle_shows_one(
    sign_in, no_violations
):
    page, client = sign_in("splitter")
    big_edit(client, "invert the city")
    reload_studio(page)
    dialog = open_lightbox(newest_card(page, "invert the city"))
    shown = picture(dialog)
    handle = dialog.get_by_role("slider", name="Before and after: move to compare")
    expect(handle).to_have_attribute("aria-valuenow", "50")
    low = shown["y"] + shown["height"] * 0.8  # below the original's blue corner

    def at(fraction: float) -> tuple[int, int, int]:
        current = picture(dialog)
        return colour_at(page, current["x"] + current["width"] * fraction, low)

    def handle_x() -> float:
        found = box(handle)
        return found["x"] + found["width"] / 2

    assert handle_x() == pytest.approx(shown["x"] + shown["width"] / 2, abs=1)
    assert is_original(at(0.4)) and is_result(at(0.6))

    # Dragged by its handle, the split goes with it.
    page.mouse.move(handle_x(), low)
    page.mouse.down()
    page.mouse.move(shown["x"] + shown["width"] * 0.25, low, steps=5)
    page.mouse.up()
    expect(handle).to_have_attribute("aria-valuenow", "25")
    assert picture(dialog) == pytest.approx(shown, abs=1)  # the picture did not move
    assert is_original(at(0.15)) and is_result(at(0.35))

    # With the keys while the handle has the focus (the arrows do not change the result then).
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuenow", "35")
    expect(handle).to_have_attribute("aria-valuetext", "35%")
    assert is_original(at(0.3)) and is_result(at(0.4))
    page.keyboard.press("End")
    expect(handle).to_have_attribute("aria-valuenow", "100")
    assert is_original(at(0.95))
    page.keyboard.press("Home")
    expect(handle).to_have_attribute("aria-valuenow", "0")
    assert is_result(at(0.05))

    # Zoomed in, the two pictures stay one on the other: the line still parts them on screen.
    page.keyboard.press("End")
    for _ in range(10):
        page.keyboard.press("ArrowLeft")  # back to 80 %
    expect(handle).to_have_attribute("aria-valuenow", "80")
    dialog.get_by_role("button", name="Zoom in").click()
    dialog.get_by_role("button", name="Zoom in").click()
    wait_for_width(page, ">", shown["width"] * 2)
    viewport = box(dialog.locator("[data-lightbox-viewport]"))
    line = handle_x()
    assert line == pytest.approx(viewport["x"] + viewport["width"] * 0.8, abs=2)
    assert is_original(colour_at(page, line - 15, low)) and is_result(
        colour_at(page, line + 15, low)
    )

    # The toggle: one picture whole, or the two with the split.
    dialog.get_by_role("button", name="Fit").click()
    wait_for_width(page, "=", shown["width"])
    original = dialog.get_by_role("button", name="Original", exact=True)
    result = dialog.get_by_role("button", name="Result", exact=True)
    compare = dialog.get_by_role("button", name="Compare", exact=True)
    expect(compare).to_have_attribute("aria-pressed", "true")
    original.click()
    expect(original).to_have_attribute("aria-pressed", "true")
    expect(handle).to_be_hidden()
    assert is_original(at(0.95))
    result.click()
    expect(result).to_have_attribute("aria-pressed", "true")
    expect(original).to_have_attribute("aria-pressed", "false")
    assert is_result(at(0.05)) and is_result(at(0.95))
    compare.click()
    expect(handle).to_be_visible()
    assert is_original(at(0.5)) and is_result(at(0.9))


@pytest.mark.browser
def test_the_arrows_go_from_one_result_to_the_next(sign_in, no_violations):
    page, client = sign_in("result_browser")
    edit = big_edit(client, "invert the forest [demo:n=3]")
    assert len(edit["results"]) == 3
    reload_studio(page)
    dialog = open_lightbox(newest_card(page, "invert the forest [demo:n=3]"))
    counter = dialog.locator("[data-lightbox-counter]")
    after = dialog.locator(AFTER)
    previous = dialog.locator("[data-lightbox-step='-1']")  # hidden at the first result
    following = dialog.locator("[data-lightbox-step='1']")
    expect(following).to_have_accessible_name("Next result")
    expect(counter).to_have_text("1 / 3")
    expect(after).to_have_attribute("src", re.compile(r"/result/0/full$"))
    expect(previous).to_be_disabled()
    fitted = picture(dialog)

    dialog.get_by_role("button", name="Zoom in").click()
    wait_for_width(page, ">", fitted["width"])
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text("2 / 3")
    expect(previous).to_be_visible()
    expect(previous).to_have_accessible_name("Previous result")
    expect(after).to_have_attribute("src", re.compile(r"/result/1/full$"))
    expect_loaded(after)
    wait_for_width(page, "=", fitted["width"])  # each result starts whole on the screen
    expect(dialog.locator("[data-lightbox-counter-label]")).to_have_text("Result 2 of 3")

    following.click()
    expect(counter).to_have_text("3 / 3")
    expect(after).to_have_attribute("src", re.compile(r"/result/2/full$"))
    expect(following).to_be_disabled()
    expect(following).to_be_hidden()
    expect(dialog.get_by_role("button", name="Previous result")).to_be_focused()
    page.keyboard.press("ArrowRight")  # the last one: nowhere further to go
    expect(counter).to_have_text("3 / 3")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("1 / 3")
    expect(after).to_have_attribute("src", re.compile(r"/result/0/full$"))
    # The original stays the same "before" for every result.
    expect(dialog.locator(BEFORE)).to_have_attribute("src", re.compile(r"/source/0/full$"))


@pytest.mark.browser
def test_on_a_phone_the_lightbox_fills_the_screen_and_two_fingers_pinch(sign_in, no_violations):
    page, client = sign_in("pincher", viewport=PHONE, is_mobile=True, has_touch=True)
    big_edit(client, "invert the sea")
    reload_studio(page)
    card = newest_card(page, "invert the sea")
    card.locator("button[data-lightbox-open]").tap()
    dialog = card.locator("dialog.lightbox")
    expect_loaded(dialog.locator(AFTER))
    assert box(dialog) == pytest.approx({"x": 0, "y": 0, **PHONE}, abs=1)
    expect(dialog.locator(".keyboard-hint")).to_be_hidden()
    fitted = picture(dialog)
    assert fitted["width"] == pytest.approx(PHONE["width"], abs=1)

    # Two fingers moving apart (touch events, as a phone's screen sends them).
    scrolled = page.evaluate("() => [scrollX, scrollY]")
    touch = page.context.new_cdp_session(page)
    centre = (fitted["x"] + fitted["width"] / 2, fitted["y"] + fitted["height"] / 2)

    def fingers(apart: float) -> list[dict]:
        return [
            {"x": centre[0] - apart, "y": centre[1], "id": 1},
            {"x": centre[0] + apart, "y": centre[1], "id": 2},
        ]

    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(40)})
    for apart in (50, 60, 70, 80):
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(apart)})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    wait_for_width(page, "=", fitted["width"] * 2)  # the fingers twice as far apart
    pinched = picture(dialog)
    assert fraction_under(centre, pinched) == pytest.approx(
        fraction_under(centre, fitted), abs=0.01
    )
    assert page.evaluate("() => [scrollX, scrollY]") == scrolled  # the page behind stayed

    # A double tap (off the split's handle) goes back to the whole picture, and another one
    # zooms in at the finger.
    finger = (centre[0] + 80, centre[1] + 20)
    page.touchscreen.tap(*finger)
    page.touchscreen.tap(*finger)
    wait_for_width(page, "=", fitted["width"])
    page.touchscreen.tap(*finger)
    page.touchscreen.tap(*finger)
    wait_for_width(page, "=", fitted["width"] * 2)
    # Across, the point under the finger stays under it; up and down, the picture (still
    # lower than the screen) stays in the middle.
    tapped = picture(dialog)
    assert fraction_under(finger, tapped)[0] == pytest.approx(
        fraction_under(finger, fitted)[0], abs=0.01
    )
    assert tapped["y"] + tapped["height"] / 2 == pytest.approx(
        fitted["y"] + fitted["height"] / 2, abs=1
    )

    dialog.get_by_role("button", name="Close").tap()
    expect(dialog).to_be_hidden()


@pytest.mark.browser
def test_the_share_page_lightbox_uses_the_shared_links_and_hides_a_hidden_original(
    sign_in, contexts, live, no_violations
):
    page, client = sign_in("public_sharer")
    edit = big_edit(client, "invert the mountain")
    reload_studio(page)
    card = newest_card(page, "invert the mountain")
    card.locator(".share-form input[name=show_original]").uncheck()
    card.locator(".share-form button[type=submit]").click()
    link = card.locator("[data-share-link]").input_value()

    stranger = contexts.new().new_page()
    asked = full_size_requests(stranger)
    stranger.goto(link)
    stranger.wait_for_load_state("networkidle")
    stranger.locator("[data-lightbox-open]").first.click()
    dialog = stranger.locator("dialog.lightbox")
    expect(dialog).to_be_visible()
    after = dialog.locator(AFTER)
    expect_loaded(after)
    token = link.rsplit("/", 1)[-1]
    expect(after).to_have_attribute("src", f"/s/{token}/result/0/full")
    expect(dialog.locator(BEFORE)).to_have_count(0)
    expect(dialog.get_by_role("slider")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Compare")).to_have_count(0)
    assert not [url for url in asked if "/source/" in url or f"/media/{edit['id']}/" in url]
    stranger.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_lightbox_has_no_serious_accessibility_violation(sign_in, contexts, scheme):
    contexts.watchers.append(add_axe)
    page, client = sign_in(f"axe_{scheme}", color_scheme=scheme)
    big_edit(client, "invert the field [demo:n=2]")
    reload_studio(page)
    dialog = open_lightbox(newest_card(page, "invert the field [demo:n=2]"))
    assert_accessible(page, f"the open lightbox ({scheme})")
    dialog.get_by_role("button", name="Zoom in").click()
    dialog.get_by_role("button", name="Result", exact=True).click()
    assert_accessible(page, f"the zoomed lightbox showing the result ({scheme})")
