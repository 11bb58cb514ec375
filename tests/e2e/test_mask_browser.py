"""The mask brush (static/gaitu/mask.js and mask-form.js, studio/mask_brush.html) in real
headless Chromium against a running Gaitu: a picture chosen, strokes painted with a mouse and a
finger, undone, erased and inverted, Done, and the edit sent; the stored mask, fetched back
through its owner's media URL, is the picture's own size and transparent exactly where the brush
painted. Also the lightbox's "Paint a mask and edit again", in the studio and from an edit's own
page, and axe on the brush in both colour schemes (see studio_browser.py for the shared set-up).

A point is given in fractions of the picture (0..1 across, 0..1 down), so that a stroke lands
on the same picture pixels whatever the screen's size.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.accessibility import add_axe, assert_accessible
from tests.support.factories import image_bytes
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    api_edit,
    browser,
    contexts,
    expect_succeeded,
    live,
    newest_card,
    no_violations,
    reload_studio,
    sign_in,
)

PICTURE = (300, 200)
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
BRUSH = "dialog[data-mask-brush]"
CANVAS = "[data-mask-canvas]"
CHANGE_FROM = 128  # imaging/masks.py: an alpha under this is "change here"

# The alpha of each given point (fractions of the picture) of the mask in the form's input.
FORM_MASK_ALPHA_JS = """async (points) => {
  const file = document.querySelector("#upload-form input[name=mask]").files[0];
  if (!file) return null;
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const alphas = points.map(([x, y]) => {
    const px = Math.min(bitmap.width - 1, Math.floor(x * bitmap.width));
    const py = Math.min(bitmap.height - 1, Math.floor(y * bitmap.height));
    return pixels[(py * bitmap.width + px) * 4 + 3];
  });
  return { width: bitmap.width, height: bitmap.height, type: file.type, alphas };
}"""
# How many pixels of the brush's canvas are painted.
PAINTED_JS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) painted += 1;
  return painted;
}"""


def picture_file(name="photo.png", size=PICTURE) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": image_bytes(size, "PNG")}


def open_brush_on_chosen_picture(page, size=PICTURE):
    page.set_input_files("#id_images", [picture_file(size=size)])
    opener = page.locator("#upload-form [data-mask-open]")
    expect(opener).to_be_visible()
    expect(opener).to_have_text("Paint the area to change")
    opener.click()
    return brush_open(page, size)


def brush_open(page, size):
    brush = page.locator(BRUSH)
    expect(brush).to_be_visible()
    canvas = brush.locator(CANVAS)
    # The canvas is the picture's own size, whatever size it is shown at.
    expect(canvas).to_have_attribute("width", str(size[0]))
    expect(canvas).to_have_attribute("height", str(size[1]))
    expect(brush).not_to_have_attribute("data-loading", "")
    return brush


def screen_point(canvas, x: float, y: float) -> tuple[float, float]:
    found = canvas.bounding_box()
    assert found is not None
    return found["x"] + x * found["width"], found["y"] + y * found["height"]


def mouse_stroke(page, canvas, start, end, steps=12) -> None:
    page.mouse.move(*screen_point(canvas, *start))
    page.mouse.down()
    page.mouse.move(*screen_point(canvas, *end), steps=steps)
    page.mouse.up()


def touch_stroke(page, canvas, start, end, steps=12) -> None:
    """A finger's stroke, as the touch screen reports it (Chromium's own touch events)."""
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = screen_point(canvas, *start), screen_point(canvas, *end)

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", x0, y0)
    for step in range(1, steps + 1):
        touch("touchMove", x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
    touch("touchEnd", x1, y1)
    cdp.detach()


def painted(canvas) -> int:
    return canvas.evaluate(PAINTED_JS)


def form_mask(page, points):
    return page.evaluate(FORM_MASK_ALPHA_JS, [list(point) for point in points])


def stored_mask(page, card) -> Image.Image:
    """The mask the edit keeps, as its owner's browser gets it (the card's link to it)."""
    link = card.locator(".mask-overlay")
    expect(link).to_be_visible()
    href = link.evaluate("a => a.href")
    assert re.search(r"/source/0/mask$", href), href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.body()))


def alpha_at(mask: Image.Image, x: float, y: float) -> int:
    alpha = mask.convert("RGBA").getchannel("A")
    return alpha.getpixel(
        (min(mask.width - 1, int(x * mask.width)), min(mask.height - 1, int(y * mask.height)))
    )


# ---- Painting, undo, invert, Done, and what is stored ------------------------------------------


def test_paint_undo_paint_again_invert_and_send(sign_in, no_violations):
    page, _client = sign_in("mask_desktop")
    brush = open_brush_on_chosen_picture(page)
    canvas = brush.locator(CANVAS)
    undo = brush.locator("[data-mask-undo]")
    done = brush.locator("[data-mask-done]")
    expect(done).to_be_disabled()
    expect(undo).to_be_disabled()

    mouse_stroke(page, canvas, (0.1, 0.25), (0.9, 0.25))
    assert painted(canvas) > 0
    expect(undo).to_be_enabled()
    undo.click()
    assert painted(canvas) == 0
    expect(done).to_be_disabled()

    mouse_stroke(page, canvas, (0.1, 0.75), (0.9, 0.75))
    once = painted(canvas)
    assert 0 < once < PICTURE[0] * PICTURE[1] / 2
    brush.locator("[data-mask-invert]").click()
    # Inverted: the stroke is kept, everything else is to change.
    assert painted(canvas) > PICTURE[0] * PICTURE[1] / 2
    done.click()
    expect(brush).to_be_hidden()

    # The form: the mask's small picture and its share of the picture; the instruction next.
    form = page.locator("#upload-form")
    expect(form.locator("[data-mask-thumb]")).to_be_visible()
    expect(form.locator("[data-mask-coverage]")).to_have_text(
        re.compile(r"^Mask: \d+% of the picture$")
    )
    expect(form.locator("[data-mask-open]")).to_have_text("Paint the area again")
    expect(page.locator("#id_instruction")).to_be_focused()
    inside, first_stroke, corner = (0.5, 0.75), (0.5, 0.25), (0.02, 0.02)
    in_form = form_mask(page, [inside, first_stroke, corner])
    assert in_form["type"] == "image/png"
    assert (in_form["width"], in_form["height"]) == PICTURE
    assert in_form["alphas"] == [255, 0, 0]

    page.fill("#id_instruction", "a mask from the brush")
    page.locator("#upload-form button[type=submit]").click()
    card = newest_card(page, "a mask from the brush")
    expect(card).to_contain_text("Masked edit")
    # The form is ready for the next edit: no picture, so no mask either.
    expect(form.locator("[data-mask-field]")).to_be_hidden()
    assert (
        page.eval_on_selector("#upload-form input[name=mask]", "input => input.files.length") == 0
    )

    mask = stored_mask(page, card)
    assert mask.size == PICTURE
    assert alpha_at(mask, *inside) >= CHANGE_FROM  # the stroke: kept (it was inverted)
    assert alpha_at(mask, *first_stroke) < CHANGE_FROM  # undone, then inverted: to change
    assert alpha_at(mask, *corner) < CHANGE_FROM
    assert alpha_at(mask, 0.98, 0.98) < CHANGE_FROM
    expect_succeeded(card)


def test_a_stroke_is_transparent_where_painted_and_the_eraser_takes_it_back(sign_in, no_violations):
    page, _client = sign_in("mask_eraser")
    brush = open_brush_on_chosen_picture(page)
    canvas = brush.locator(CANVAS)
    mouse_stroke(page, canvas, (0.1, 0.5), (0.9, 0.5))
    eraser = brush.locator("[data-mask-eraser]")
    eraser.click()
    expect(eraser).to_have_attribute("aria-pressed", "true")
    mouse_stroke(page, canvas, (0.5, 0.1), (0.5, 0.9))  # across the stroke, in the middle
    brush.locator("[data-mask-done]").click()
    expect(brush).to_be_hidden()
    points = [(0.2, 0.5), (0.8, 0.5), (0.5, 0.5), (0.2, 0.1), (0.5, 0.9)]
    found = form_mask(page, points)
    assert (found["width"], found["height"]) == PICTURE
    assert found["alphas"] == [0, 0, 255, 255, 255]


@pytest.mark.parametrize("encoder", ["worker", "page"])
def test_done_encodes_the_mask_in_a_worker_or_on_the_page(sign_in, no_violations, encoder):
    """On the page's thread Chromium encodes a PNG in idle time only, so "Done" could take
    seconds (mask-encoder.js); without its worker the page encodes it itself."""
    page, _client = sign_in(f"mask_encoder_{encoder}")
    if encoder == "page":
        page.route("**/gaitu/mask-encoder.*", lambda route: route.fulfill(status=404))
    brush = open_brush_on_chosen_picture(page)
    mouse_stroke(page, brush.locator(CANVAS), (0.1, 0.5), (0.9, 0.5))
    brush.locator("[data-mask-done]").click()
    expect(brush).to_be_hidden()
    expect(page.locator("[data-mask-thumb]")).to_be_visible()  # the preview, encoded the same way
    assert form_mask(page, [(0.5, 0.5), (0.5, 0.05)])["alphas"] == [0, 255]
    started = [worker.url for worker in page.workers if "mask-encoder" in worker.url]
    assert len(started) == (1 if encoder == "worker" else 0)


def test_cancel_keeps_no_mask_and_another_picture_drops_one(sign_in, no_violations):
    page, _client = sign_in("mask_cancel")
    brush = open_brush_on_chosen_picture(page)
    mouse_stroke(page, brush.locator(CANVAS), (0.2, 0.2), (0.8, 0.8))
    page.keyboard.press("Escape")
    expect(brush).to_be_hidden()
    expect(page.locator("[data-mask-chosen]")).to_be_hidden()
    assert form_mask(page, []) is None

    page.locator("#upload-form [data-mask-open]").click()
    brush_open(page, PICTURE)
    mouse_stroke(page, brush.locator(CANVAS), (0.2, 0.2), (0.8, 0.8))
    brush.locator("[data-mask-done]").click()
    expect(page.locator("[data-mask-chosen]")).to_be_visible()
    # Remove: no mask, the button to paint one again.
    page.locator("[data-mask-remove]").click()
    expect(page.locator("[data-mask-chosen]")).to_be_hidden()
    assert form_mask(page, []) is None

    page.locator("#upload-form [data-mask-open]").click()
    mouse_stroke(page, brush_open(page, PICTURE).locator(CANVAS), (0.2, 0.2), (0.8, 0.8))
    brush.locator("[data-mask-done]").click()
    expect(page.locator("[data-mask-chosen]")).to_be_visible()  # the PNG is made, then shown
    assert form_mask(page, []) is not None
    # The first picture goes: the mask painted on it goes too.
    page.locator("[data-previews] [data-remove-index='0']").click()
    expect(page.locator("[data-mask-field]")).to_be_hidden()
    assert form_mask(page, []) is None

    # In a batch, no brush is offered.
    page.set_input_files("#id_images", [picture_file()])
    expect(page.locator("[data-mask-open]")).to_be_visible()
    page.locator("label.mode-option", has_text="Batch").click()
    expect(page.locator("[data-mask-open]")).to_be_hidden()


def test_the_brush_with_the_keyboard(sign_in, no_violations):
    page, _client = sign_in("mask_keys")
    brush = open_brush_on_chosen_picture(page)
    canvas = brush.locator(CANVAS)
    expect(canvas).to_be_focused()
    page.keyboard.press("Tab")  # the focus stays in the brush (a modal dialog)
    page.keyboard.press("Shift+Tab")
    expect(canvas).to_be_focused()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    assert painted(canvas) > 0
    page.keyboard.press("Control+z")
    assert painted(canvas) == 0
    for _ in range(3):  # back to the middle, the brush lifted: nothing is painted on the way
        page.keyboard.press("ArrowLeft")
    assert painted(canvas) == 0
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    done = brush.locator("[data-mask-done]")
    expect(done).to_be_enabled()  # else focus() would leave the focus on the canvas
    done.focus()
    page.keyboard.press("Enter")
    expect(brush).to_be_hidden()
    assert form_mask(page, [(0.5, 0.5)])["alphas"] == [0]


def test_a_finger_paints_on_a_phone(sign_in, no_violations):
    page, _client = sign_in("mask_phone", **PHONE)
    brush = open_brush_on_chosen_picture(page)
    canvas = brush.locator(CANVAS)
    shown = canvas.bounding_box()
    assert shown is not None and shown["width"] <= PHONE["viewport"]["width"]
    touch_stroke(page, canvas, (0.1, 0.5), (0.9, 0.5))
    assert painted(canvas) > 0
    brush.locator("[data-mask-done]").click()
    expect(brush).to_be_hidden()
    found = form_mask(page, [(0.5, 0.5), (0.5, 0.05)])
    assert (found["width"], found["height"]) == PICTURE
    assert found["alphas"] == [0, 255]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_brush_and_the_masked_form_are_accessible(sign_in, contexts, scheme):
    contexts.watchers.append(add_axe)
    page, _client = sign_in(f"mask_axe_{scheme}", color_scheme=scheme)
    expect(page.locator("link[href*='gaitu/mask.'][rel=stylesheet]")).to_have_count(1)
    expect(page.locator("script[src*='gaitu/mask.']")).to_have_count(1)
    brush = open_brush_on_chosen_picture(page)
    mouse_stroke(page, brush.locator(CANVAS), (0.2, 0.2), (0.8, 0.8))
    assert_accessible(page, f"the mask brush ({scheme})")
    brush.locator("[data-mask-done]").click()
    expect(page.locator("[data-mask-chosen]")).to_be_visible()
    assert_accessible(page, f"the studio form with a mask ({scheme})")


# ---- From the lightbox -------------------------------------------------------------------------


def test_paint_a_mask_on_a_result_from_its_lightbox(sign_in, no_violations):
    page, client = sign_in("mask_lightbox")
    made = api_edit(client, "the result to paint on", image=image_bytes(PICTURE, "PNG"))
    assert made["status"] == "succeeded", made
    reload_studio(page)
    card = newest_card(page, "the result to paint on")
    card.locator("button[data-lightbox-open]").click()
    lightbox = card.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    result = card.locator("[data-lightbox-item]").first
    size = (int(result.get_attribute("data-width")), int(result.get_attribute("data-height")))
    lightbox.locator("[data-lightbox-paint]").click()
    brush = brush_open(page, size)
    mouse_stroke(page, brush.locator(CANVAS), (0.1, 0.5), (0.9, 0.5))
    brush.locator("[data-mask-done]").click()
    expect(brush).to_be_hidden()
    expect(lightbox).to_be_hidden()

    # The form edits that result again, with the mask; the instruction is next.
    form = page.locator("#upload-form")
    parent = f"{made['id']}:0"
    expect(form.locator("input[name=parent]")).to_have_value(parent)
    expect(form.locator("[data-parent]")).to_be_visible()
    expect(form.locator("[data-mask-chosen]")).to_be_visible()
    expect(page.locator("#id_instruction")).to_be_focused()
    found = form_mask(page, [(0.5, 0.5), (0.5, 0.05)])
    assert (found["width"], found["height"]) == size
    assert found["alphas"] == [0, 255]

    page.fill("#id_instruction", "again, where painted")
    page.locator("#upload-form button[type=submit]").click()
    again = newest_card(page, "again, where painted")
    expect(again).to_contain_text("Masked edit")
    mask = stored_mask(page, again)
    assert mask.size == size
    assert alpha_at(mask, 0.5, 0.5) < CHANGE_FROM and alpha_at(mask, 0.5, 0.05) == 255
    expect(again).to_have_attribute("data-status", "succeeded", timeout=EDIT_TIMEOUT)


def test_paint_a_mask_on_the_original_from_the_lightbox(sign_in, no_violations):
    page, client = sign_in("mask_original")
    made = api_edit(client, "an original to paint on", image=image_bytes(PICTURE, "PNG"))
    reload_studio(page)
    card = newest_card(page, "an original to paint on")
    card.locator("button[data-lightbox-open]").click()
    lightbox = card.locator("dialog.lightbox")
    lightbox.locator("[data-lightbox-view=before]").click()
    paint = lightbox.locator("[data-lightbox-paint]")
    expect(paint).to_have_text("Paint a mask on the original and edit it")
    paint.click()
    brush = brush_open(page, PICTURE)
    mouse_stroke(page, brush.locator(CANVAS), (0.1, 0.5), (0.9, 0.5))
    brush.locator("[data-mask-done]").click()
    expect(lightbox).to_be_hidden()
    # The original is the first picture chosen; no result is edited again.
    expect(page.locator("#upload-form input[name=parent]")).to_have_value("")
    expect(page.locator("[data-previews] li")).to_have_count(1)
    found = form_mask(page, [(0.5, 0.5)])
    assert (found["width"], found["height"]) == PICTURE and found["alphas"] == [0]
    assert made["id"]


def test_from_an_edits_own_page_the_lightbox_goes_to_the_studios_brush(
    sign_in, live, no_violations
):
    page, client = sign_in("mask_detail")
    made = api_edit(client, "painted from its page", image=image_bytes(PICTURE, "PNG"))
    page.goto(f"{live.url}/edits/{made['id']}/")
    card = page.locator(".edit-card")
    card.locator("button[data-lightbox-open]").click()
    card.locator("dialog.lightbox [data-lightbox-paint]").click()
    page.wait_for_url(
        re.compile(r"/\?again=[0-9a-f-]+:0$")
    )  # the brush's one-time ?paint=1 is gone
    result = made["results"][0]
    size = (result["width"], result["height"])
    brush = brush_open(page, size)
    mouse_stroke(page, brush.locator(CANVAS), (0.1, 0.5), (0.9, 0.5))
    brush.locator("[data-mask-done]").click()
    expect(page.locator("#upload-form input[name=parent]")).to_have_value(f"{made['id']}:0")
    expect(page.locator("[data-mask-chosen]")).to_be_visible()
