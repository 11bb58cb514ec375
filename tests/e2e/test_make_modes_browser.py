"""The studio's form in its modes, in real headless Chromium against a running Gaitu and its demo
gateway: the form says whether it will create a picture or edit one, offers the options the
chosen model honours, makes a picture from the words alone, compares two models in one card,
takes a batch's pictures, a pasted link, and stays accessible in compare mode.

The installation offers gpt-image-1 (it takes a quality) and gpt-4o-image (it does not).
"""

import pytest
from playwright.sync_api import expect

from tests.support.accessibility import add_axe, assert_accessible
from tests.support.browser import log_in
from tests.support.live import PASSWORD, running_gaitu
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    browser,
    contexts,
    expect_succeeded,
    png,
    sign_in,
)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
WIDE_DESKTOP = {"viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(
        tmp_path_factory.mktemp("make-modes"),
        GAITU_MODELS="gpt-image-1,gpt-4o-image",
        GAITU_DEMO_LATENCY="1",
        GAITU_RATE_LIMIT="0",
        GAITU_MAX_INPUTS="2",
        GAITU_BATCH_MAX="3",
    ) as gaitu:
        yield gaitu


def heading(page):
    return page.locator("#upload-form h1")


def send_button(page):
    return page.locator("#upload-form button[type=submit]")


def choose_mode(page, label: str) -> None:
    page.locator("#upload-form .mode-switch").get_by_role("radio", name=label, exact=True).check()


# 1 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_the_form_says_whether_it_creates_or_edits(sign_in):
    page, _client = sign_in("sayer", **WIDE_DESKTOP)
    expect(heading(page)).to_have_text("Create a picture")
    expect(send_button(page)).to_have_text("Create")
    expect(page.locator("label[for=id_instruction]")).to_have_text("What should the picture show?")
    expect(page.locator(".dropzone")).to_contain_text(
        "Add pictures to edit, or leave empty to create from text."
    )

    page.set_input_files("#id_images", png("cat.png"))
    expect(heading(page)).to_have_text("Edit a picture")
    expect(send_button(page)).to_have_text("Edit")
    expect(page.locator("label[for=id_instruction]")).to_have_text("What should change?")

    page.get_by_role("button", name="Remove cat.png").click()
    expect(send_button(page)).to_have_text("Create")

    # A link is a picture too.
    page.fill("#id_image_url", "https://example.com/cat.png")
    expect(send_button(page)).to_have_text("Edit")
    page.fill("#id_image_url", "")
    expect(send_button(page)).to_have_text("Create")

    choose_mode(page, "Compare models")
    expect(heading(page)).to_have_text("Compare models")
    expect(send_button(page)).to_have_text("Compare")
    expect(page.locator("[data-compare-models]")).to_be_visible()
    expect(page.locator("#id_model")).to_be_hidden()

    choose_mode(page, "Batch")
    page.set_input_files("#id_images", [png("a.png"), png("b.png"), png("c.png")])
    expect(heading(page)).to_have_text("Edit each picture (3)")
    expect(send_button(page)).to_have_text("Edit each")
    expect(page.locator("[data-compare-models]")).to_be_hidden()
    expect(page.locator("#id_model")).to_be_visible()


# 2 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_batch_takes_more_pictures_than_one_edit(sign_in):
    page, _client = sign_in("batcher", **WIDE_DESKTOP)
    three = [png("a.png"), png("b.png"), png("c.png")]
    page.set_input_files("#id_images", three)
    expect(page.locator("[data-previews] li")).to_have_count(2)  # one edit takes two
    expect(page.locator("[data-client-error]")).to_have_text("At most 2 pictures at once.")

    choose_mode(page, "Batch")
    expect(page.locator("[data-dropzone]")).to_have_attribute("data-max-inputs", "3")
    page.set_input_files("#id_images", [png("c.png")])
    expect(page.locator("[data-previews] li")).to_have_count(3)
    expect(page.locator("[data-client-error]")).to_be_hidden()

    # Back to one edit, the three are kept and the limit is said.
    choose_mode(page, "One edit")
    expect(page.locator("[data-client-error]")).to_have_text("At most 2 pictures at once.")
    expect(page.locator("[data-previews] li")).to_have_count(3)


# 3 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_quality_is_offered_only_for_a_model_that_takes_it(sign_in):
    page, _client = sign_in("fussy", **WIDE_DESKTOP)
    quality = page.locator("#id_quality")
    expect(page.locator("#id_model")).to_have_value("gpt-image-1")
    expect(quality).to_be_visible()
    page.select_option("#id_model", "gpt-4o-image")
    expect(quality).to_be_hidden()
    expect(quality).to_be_disabled()  # and not sent
    expect(page.locator("#id_size")).to_be_visible()
    page.select_option("#id_model", "gpt-image-1")
    expect(quality).to_be_visible()

    # Comparing, quality is there when one of the models chosen takes it.
    choose_mode(page, "Compare models")
    checks = page.locator("[data-compare-models]")
    checks.get_by_label("gpt-4o-image").check()
    expect(quality).to_be_hidden()
    checks.get_by_label("gpt-image-1").check()
    expect(quality).to_be_visible()

    # A custom size asks for its width and height.
    expect(page.locator("#id_width")).to_be_hidden()
    page.select_option("#id_size", "custom")
    expect(page.locator("#id_width")).to_be_visible()
    expect(page.locator("#id_height")).to_be_visible()


# 4 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_picture_made_from_the_words_alone(sign_in):
    page, client = sign_in("maker", **WIDE_DESKTOP)
    page.select_option("#id_size", "16:9")
    page.fill("#id_instruction", "a lighthouse at dusk")
    send_button(page).click()

    card = page.locator("#edit-list > .edit-card").first
    expect(card.locator(".instruction")).to_have_text("a lighthouse at dusk")
    expect_succeeded(card)
    expect(page.locator("#id_instruction")).to_have_value("")  # ready for the next one
    expect(send_button(page)).to_have_text("Create")
    expect(page.locator("#id_size")).to_have_value("16:9")  # the options stay as chosen
    edit = client.get("/api/v1/edits").json()["results"][0]
    assert (edit["instruction"], edit["kind"], edit["sources"]) == (
        "a lighthouse at dusk",
        "generation",
        [],
    )
    assert edit["options"]["size"] == "16:9"


# 5 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_comparison_of_two_models_is_one_card(sign_in):
    page, _client = sign_in("chooser", **WIDE_DESKTOP)
    choose_mode(page, "Compare models")
    checks = page.locator("[data-compare-models]")
    checks.get_by_label("gpt-image-1").check()
    checks.get_by_label("gpt-4o-image").check()
    page.set_input_files("#id_images", png("harbour.png"))
    page.fill("#id_instruction", "make it autumn")
    send_button(page).click()

    group = page.locator("#edit-list > [id^=group-]")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("make it autumn")
    expect(group).to_be_in_viewport()
    columns = group.locator(".edit-card")
    expect(columns).to_have_count(2)
    for n in range(2):
        expect(columns.nth(n)).to_have_attribute("data-status", "succeeded", timeout=EDIT_TIMEOUT)
    expect(page.locator("[data-previews] li")).to_have_count(0)
    expect(send_button(page)).to_have_text("Compare")  # the mode stays


# 6 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_comparison_of_one_model_is_refused_beside_the_models(sign_in):
    page, _client = sign_in("loner", **WIDE_DESKTOP)
    choose_mode(page, "Compare models")
    page.locator("[data-compare-models]").get_by_label("gpt-image-1").check()
    page.fill("#id_instruction", "alone")
    send_button(page).click()
    expect(page.locator("#models-errors")).to_contain_text("Choose from 2 to 4 models to compare.")
    expect(page.locator("#id_instruction")).to_have_value("alone")
    expect(page.locator("#edit-list > :is(.edit-card, [id^=group-])")).to_have_count(0)


# 7 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_a_pasted_link_fills_the_link_field(sign_in):
    page, _client = sign_in("paster", **WIDE_DESKTOP)
    page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.setData("text/plain", "https://pictures.example/cat.jpg");
          document.body.dispatchEvent(new ClipboardEvent("paste", {
            clipboardData: data, bubbles: true, cancelable: true }));
        }"""
    )
    expect(page.locator("#id_image_url")).to_have_value("https://pictures.example/cat.jpg")
    expect(send_button(page)).to_have_text("Edit")

    # Text that is not a link, pasted on the page, is left alone.
    page.fill("#id_image_url", "")
    page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.setData("text/plain", "just words");
          document.body.dispatchEvent(new ClipboardEvent("paste", {
            clipboardData: data, bubbles: true, cancelable: true }));
        }"""
    )
    expect(page.locator("#id_image_url")).to_have_value("")


# 8 ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_on_a_phone_the_options_fold_into_one_line_that_says_what_is_chosen(sign_in):
    page, _client = sign_in("folder", **PHONE)
    summary = page.locator("[data-options-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_have_text("Options")
    expect(page.locator("#id_size")).to_be_hidden()
    summary.tap()
    page.select_option("#id_size", "16:9")
    page.select_option("#id_n", "2")
    expect(summary).to_have_text("Options: 16:9 · 2 results")
    # The segments of the mode switch fit side by side on the phone.
    boxes = [page.locator(".mode-option").nth(n).bounding_box() for n in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]
    assert boxes[2]["x"] + boxes[2]["width"] <= 390


@pytest.mark.browser
def test_on_a_desktop_the_options_are_a_row(sign_in):
    page, _client = sign_in("rower", **WIDE_DESKTOP)
    expect(page.locator("[data-options-summary]")).to_be_hidden()
    size, n = page.locator("#id_size").bounding_box(), page.locator("#id_n").bounding_box()
    assert size["y"] == n["y"]


# 9 ------------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_studio_in_compare_mode_is_accessible(live, contexts, scheme):
    live.api(f"auditor-{scheme}").close()
    context = contexts.new(color_scheme=scheme, **WIDE_DESKTOP)
    add_axe(context)
    page = context.new_page()
    log_in(page, live.url, f"auditor-{scheme}", PASSWORD)
    expect(page.locator("#id_model option")).not_to_have_count(0)
    choose_mode(page, "Compare models")
    page.locator("[data-compare-models]").get_by_label("gpt-image-1").check()
    page.select_option("#id_size", "custom")
    expect(page.locator("#id_width")).to_be_visible()
    assert_accessible(page, f"the studio in compare mode ({scheme})")


@pytest.mark.browser
def test_the_mode_switch_works_by_keyboard_and_shows_its_focus(sign_in):
    page, _client = sign_in("typist", **WIDE_DESKTOP)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name === 'mode'"):
            break
    one_edit = page.locator("#id_mode_single")
    expect(one_edit).to_be_focused()
    segment = page.locator(".mode-option").first
    assert segment.evaluate("label => getComputedStyle(label).outlineStyle") == "solid"
    # A radio group: the arrow keys choose the mode, and the form says what it now does.
    page.keyboard.press("ArrowRight")
    expect(page.locator("#id_mode_compare")).to_be_checked()
    expect(heading(page)).to_have_text("Compare models")
    page.keyboard.press("ArrowRight")
    expect(send_button(page)).to_have_text("Edit each")
