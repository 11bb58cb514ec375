"""The studio's form in real headless Chromium against a running Gaitu: a refused submission
keeps what the person gave, the phone layout made for the thumb, the desktop's wide canvas, and
queued cards that show the pictures just chosen.

The web server runs without a worker, so every edit stays queued (its originals without
thumbnails: what a queued card shows is the page's own preview), and with a rate of two edits
a minute and 1 MB of storage for each person, so that refusals are easy to reach. Every test
signs in as a person of its own.
"""

import io
import os
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import log_in
from tests.support.factories import image_bytes
from tests.support.live import PASSWORD, split_gaitu
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    api_edit,
    browser,
    card_id,
    chosen_names,
    contexts,
    newest_card,
    png,
    preview_names,
    sign_in,
)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
WIDE_DESKTOP = {"viewport": {"width": 1440, "height": 900}}
OBJECT_URL = re.compile(r"^blob:")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with split_gaitu(
        tmp_path_factory.mktemp("studio-form"),
        with_worker=False,
        GAITU_RATE_LIMIT="2",
        GAITU_STORAGE_QUOTA_MB="1",
    ) as gaitu:
        yield gaitu


def open_studio(page, cards: int) -> None:
    """Load the studio again, holding that many cards (queued ones keep a stream open, so
    "the network is idle" never comes)."""
    page.reload()
    expect(page.locator(".edit-card")).to_have_count(cards)
    expect(page.locator("#id_model option")).not_to_have_count(0)


def send(page) -> None:
    page.locator("#upload-form button[type=submit]").click()


def mark_previews(page) -> None:
    """Tag the preview elements on screen, to see later that these very ones are still there."""
    page.locator("[data-previews] img").evaluate_all(
        "imgs => imgs.forEach(img => { img.dataset.testMark = 'kept'; })"
    )


def expect_kept(page, names: list[str], instruction: str) -> None:
    """The form as the person left it: the same previews, the files, the text."""
    expect(page.locator("[data-previews] img[data-test-mark=kept]")).to_have_count(len(names))
    assert preview_names(page) == names
    assert chosen_names(page) == names
    expect(page.locator("#id_instruction")).to_have_value(instruction)


def jpeg_cut_short() -> dict:
    whole = image_bytes((300, 300))
    return {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": whole[:400]}


def noise_png(side: int = 700) -> bytes:
    """A PNG that does not compress: over 1 MB, this module's storage quota."""
    picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def delete_edit(client, edit: dict) -> None:
    assert client.delete(edit["url"]).status_code == 204


# 1 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_rate_limited_submission_keeps_the_pictures_and_the_instruction(sign_in):
    page, client = sign_in("hasty")
    earlier = [api_edit(client, f"earlier {n}", wait=False) for n in range(2)]
    open_studio(page, cards=2)

    page.set_input_files("#id_images", [png("keep-me.png"), png("me-too.png", color=(0, 90, 200))])
    page.fill("#id_instruction", "warmer light, please")
    mark_previews(page)
    send(page)

    feedback = page.locator("#upload-feedback")
    expect(feedback).to_contain_text("That is a lot of edits in a minute")
    expect(feedback).to_be_visible()
    expect_kept(page, ["keep-me.png", "me-too.png"], "warmer light, please")
    expect(page.locator(".edit-card")).to_have_count(2)

    # Once the limit allows (one of the edits in this minute is gone), the same form is sent.
    delete_edit(client, earlier[0])
    send(page)
    card = newest_card(page, "warmer light, please")
    expect(card.locator(".before figcaption")).to_contain_text("2 pictures")
    expect(page.locator("[data-previews] li")).to_have_count(0)  # accepted: a fresh form
    expect(page.locator("#id_instruction")).to_have_value("")
    expect(feedback).to_be_hidden()
    expect(feedback).to_have_text("")


# 2 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_no_room_for_the_edit_keeps_the_pictures_and_the_instruction(sign_in):
    page, client = sign_in("hoarder")
    big = api_edit(client, "a large picture", image=noise_png(), wait=False)
    open_studio(page, cards=1)

    page.set_input_files("#id_images", png("small.png"))
    page.fill("#id_instruction", "crop to a square")
    mark_previews(page)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        send(page)
    assert answer.value.headers["hx-retarget"] == "#upload-feedback"
    expect(page.locator("#upload-feedback")).to_contain_text("Delete some edits to make room")
    expect_kept(page, ["small.png"], "crop to a square")

    delete_edit(client, big)
    send(page)
    expect(newest_card(page, "crop to a square")).to_have_attribute("data-status", "queued")
    expect(page.locator("#upload-feedback")).to_be_hidden()


# 3 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_damaged_picture_is_said_next_to_the_pictures_and_the_rest_is_kept(sign_in):
    page, _client = sign_in("careless")
    page.set_input_files("#id_images", [png("fine.png"), jpeg_cut_short()])
    page.fill("#id_instruction", "sharpen both")
    mark_previews(page)
    send(page)

    errors = page.locator(".field.pictures #images-errors")
    expect(errors).to_contain_text("broken.jpg")
    expect(errors).to_contain_text("damaged or incomplete")
    expect_kept(page, ["fine.png", "broken.jpg"], "sharpen both")
    expect(page.locator(".edit-card")).to_have_count(0)

    # Take the damaged one away and send the rest: accepted, and the old message is gone.
    page.get_by_role("button", name="Remove broken.jpg").click()
    send(page)
    expect(newest_card(page, "sharpen both")).to_have_attribute("data-status", "queued")
    expect(errors).to_be_hidden()
    expect(errors).to_have_text("")


# 4 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_without_javascript_a_refusal_keeps_the_instruction_and_says_the_pictures_are_not(
    live, contexts
):
    client = live.api("scriptless")
    for n in range(2):
        api_edit(client, f"earlier {n}", wait=False)
    page = contexts.new(java_script_enabled=False).new_page()
    log_in(page, live.url, "scriptless", PASSWORD)
    # No previews without scripts: the browser's own input shows what is chosen, and the
    # controls only scripts make work are not offered.
    assert page.eval_on_selector("#id_images", "i => getComputedStyle(i).opacity") == "1"
    expect(page.locator(".presets")).to_be_hidden()

    page.set_input_files("#id_images", png("lost.png"))
    page.fill("#id_instruction", "add a rainbow")
    page.select_option("#id_model", index=0)
    model = page.locator("#id_model").input_value()
    with page.expect_navigation() as refused:
        send(page)
    assert refused.value.status == 429
    feedback = page.locator("#upload-feedback")
    expect(feedback).to_contain_text("That is a lot of edits in a minute")
    expect(feedback).to_contain_text("The pictures you chose could not be kept: choose them again.")
    expect(page.locator("#id_instruction")).to_have_value("add a rainbow")
    expect(page.locator("#id_model")).to_have_value(model)
    client.close()


# 5 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_on_a_phone_the_form_is_made_for_the_thumb(sign_in):
    page, client = sign_in("thumb", **PHONE)
    api_edit(client, "an earlier edit", wait=False)
    open_studio(page, cards=1)

    # A form that is not endless: its send button is on the first screen, the options folded
    # into one line, the first card right below it.
    assert page.evaluate("() => window.scrollY") == 0
    send_box = page.locator("#upload-form button[type=submit]").bounding_box()
    assert send_box["y"] + send_box["height"] <= 844
    expect(page.locator("[data-options-summary]")).to_be_visible()
    expect(page.locator("#id_size")).to_be_hidden()

    # A large area opens the picker when tapped; the phone is asked for pictures of any kind
    # (so it offers the camera and the photo library).
    zone = page.locator(".dropzone")
    box = zone.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 120
    assert zone.evaluate("el => el.tagName") == "LABEL"
    expect(page.locator("#id_images")).to_have_attribute("accept", "image/*")
    with page.expect_file_chooser() as chooser:
        zone.tap()
    assert chooser.value.is_multiple()
    chooser.value.set_files(png("library.png", (120, 90)))
    expect(page.locator("[data-previews] li")).to_have_count(1)

    # "Take a photo": the camera straight away; its picture joins the others.
    camera = page.locator(".camera-button")
    expect(camera).to_be_visible()
    expect(page.locator("#id_camera")).to_have_attribute("capture", "environment")
    with page.expect_file_chooser() as chooser:
        camera.tap()
    chooser.value.set_files(png("camera.png", (90, 120), (10, 120, 60)))
    expect(page.locator("[data-previews] li")).to_have_count(2)
    assert preview_names(page) == ["library.png", "camera.png"]
    assert chosen_names(page) == ["library.png", "camera.png"]
    assert page.eval_on_selector("#id_camera", "input => input.files.length") == 0
    preview = page.locator("[data-previews] img").first.bounding_box()
    assert preview["width"] >= 80 and preview["height"] >= 80

    # No hints about keys and dragging on a touch screen.
    hints = page.locator(".keyboard-hint")
    assert hints.count() >= 2
    for n in range(hints.count()):
        expect(hints.nth(n)).to_be_hidden()

    # Sent: the new card is brought up to the top of the screen.
    page.fill("#id_instruction", "from the phone")
    page.locator("#upload-form button[type=submit]").tap()
    card = newest_card(page, "from the phone")
    page.wait_for_function("() => window.scrollY > 0")
    page.wait_for_function(
        "card => { const top = card.getBoundingClientRect().top;"
        " return top >= 0 && top < innerHeight / 4; }",
        arg=card.element_handle(),
    )


# 6 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_on_a_desktop_the_results_get_the_width_and_keyboard_hints_show(sign_in):
    page, client = sign_in("wide", **WIDE_DESKTOP)
    api_edit(client, "an earlier edit", wait=False)
    open_studio(page, cards=1)

    form = page.locator("#upload-form").bounding_box()
    results = page.locator("#edit-list").bounding_box()
    assert 380 <= form["width"] <= 460
    assert results["x"] > form["x"] + form["width"]  # side by side
    assert results["x"] + results["width"] >= 1440 - 64  # to the screen's edge, less a margin
    assert results["width"] >= 850
    assert page.locator("#upload-form").evaluate("f => getComputedStyle(f).position") == "sticky"

    hints = page.locator(".keyboard-hint")
    for n in range(hints.count()):
        expect(hints.nth(n)).to_be_visible()
    expect(page.locator(".camera-button")).to_be_hidden()  # no camera button for a mouse

    # The new card appears in sight at the top of the list: the page stays where it is.
    page.set_input_files("#id_images", png("desk.png"))
    page.fill("#id_instruction", "from the desk")
    button = page.locator("#upload-form button[type=submit]")
    button.scroll_into_view_if_needed()
    where = page.evaluate("() => window.scrollY")
    button.click()
    card = newest_card(page, "from the desk")
    expect(card).to_be_in_viewport()
    assert page.evaluate("() => window.scrollY") == where


# 7 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_queued_card_shows_the_pictures_just_chosen(sign_in):
    page, _client = sign_in("queuer")
    names = ["red.png", "green.png"]
    page.set_input_files("#id_images", [png(names[0]), png(names[1], (64, 96), (20, 160, 40))])
    page.fill("#id_instruction", "two to wait for")
    send(page)
    card = newest_card(page, "two to wait for")
    expect(card).to_have_attribute("data-status", "queued")

    def expect_pending_previews(card) -> None:
        slots = card.locator("[data-pending-source]")
        expect(slots.first).to_be_attached()
        for n in range(slots.count()):
            slot = slots.nth(n)
            position = int(slot.get_attribute("data-pending-source"))
            img = slot.locator("img.pending-preview")
            expect(img).to_have_attribute("alt", names[position])
            expect(img).to_have_attribute("src", OBJECT_URL)
        # Asked of the page as it is at each moment: the card may be swapped again meanwhile
        # (its live updates), and each copy must show the pictures.
        page.wait_for_function(
            """(selector) => {
              const imgs = [...document.querySelectorAll(selector + " img.pending-preview")];
              return imgs.length === 2 && imgs.every((img) => img.complete && img.naturalWidth > 0);
            }""",
            arg=f"#edit-{card_id(card)} [data-pending-source]",
        )
        count = slots.count()
        positions = {int(slots.nth(n).get_attribute("data-pending-source")) for n in range(count)}
        assert positions == {0, 1}
        # Shown, the picture's object URL has been let go.
        released = slots.first.locator("img").evaluate(
            "img => fetch(img.src).then(() => false, () => true)"
        )
        assert released

    expect_pending_previews(card)

    # The card comes again (as with news of its progress): the pictures are put back in it.
    edit_id = card_id(card)
    page.evaluate(
        """(id) => { document.getElementById("edit-" + id).dataset.testOld = "yes";
          htmx.ajax("GET", "/edits/" + id + "/", {target: "#edit-" + id, swap: "outerHTML"}); }""",
        edit_id,
    )
    swapped = page.locator(f"#edit-{edit_id}:not([data-test-old])")
    expect(swapped).to_have_count(1)
    expect_pending_previews(swapped)
