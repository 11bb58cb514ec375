"""The studio, the gallery and sharing in real headless Chromium against a running Gaitu.

One Gaitu (web server, worker and the demo gateway, 2 s per edit) and one browser serve the
whole module; every test signs in as a person of its own, so the tests don't depend on each
other or on their order.
"""

import base64
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from .browser import launch, log_in
from .factories import image_bytes
from .live import PASSWORD, running_gaitu, wait_for_edit

EDIT_TIMEOUT = 30_000  # ms: an edit takes about 2 s, but the worker may be busy with others
DESKTOP = {"width": 1280, "height": 860}
DRAGGING = re.compile(r"(^|\s)dragging(\s|$)")
STAGE = re.compile(r"Waiting in line|Generating|Saving the result")

# Builds a DataTransfer holding files given as [name, type, base64] triples, the way a drop
# or a paste from another application hands them to the page.
TRANSFER_JS = """
window.gaituTransfer = (specs) => {
  const transfer = new DataTransfer();
  for (const [name, type, data] of specs) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  return transfer;
};
"""
# Reports Content Security Policy violations to the test (through an exposed binding).
VIOLATIONS_JS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.gaituViolation({
    directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  });
});
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(
        tmp_path_factory.mktemp("studio"), GAITU_DEMO_LATENCY="2", GAITU_RATE_LIMIT="0"
    ) as gaitu:
        yield gaitu


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


class Contexts:
    """Browser contexts for one test; JavaScript errors in any of them fail the test."""

    def __init__(self, browser):
        self.browser = browser
        self.opened = []
        self.page_errors: list[str] = []
        self.watchers = []  # called with each new context, before its first page

    def new(self, **options):
        options = {"locale": "en-US", "viewport": DESKTOP, **options}
        context = self.browser.new_context(**options)
        context.add_init_script(TRANSFER_JS)
        context.on("page", lambda page: page.on("pageerror", self._page_error))
        for watch in self.watchers:
            watch(context)
        self.opened.append(context)
        return context

    def _page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def contexts(browser):
    opened = Contexts(browser)
    yield opened
    opened.close()
    assert opened.page_errors == []


@pytest.fixture
def sign_in(live, contexts):
    """Make a person, log them in through the login form; their page and API client."""
    clients = []

    def sign_in(username: str, **options):
        client = live.api(username)
        clients.append(client)
        page = contexts.new(**options).new_page()
        log_in(page, live.url, username, PASSWORD)
        expect_studio_intact(page)
        return page, client

    yield sign_in
    for client in clients:
        client.close()


def expect_studio_intact(page) -> None:
    """Once the studio has loaded what it loads after the page (the model picker's options),
    the list of edits holds edits (or the note that there are none) and nothing else."""
    page.wait_for_load_state("networkidle")
    expect(page.locator("#id_model option")).not_to_have_count(0)
    expect(page.locator("#edit-list > :not(.edit-card, #no-edits)")).to_have_count(0)


def reload_studio(page) -> None:
    page.reload()
    expect_studio_intact(page)


def png(name: str, size=(96, 64), color=(200, 40, 40)) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": image_bytes(size, "PNG", color=color)}


def specs(*files: dict) -> list[list[str]]:
    return [[f["name"], f["mimeType"], base64.b64encode(f["buffer"]).decode()] for f in files]


def drag_in(page, *files: dict) -> bool:
    """dragenter and dragover on the page; whether the page accepted the drop (dragover)."""
    return page.evaluate(
        """(specs) => {
          window.gaituDragged = gaituTransfer(specs);
          const fire = (type) => !document.body.dispatchEvent(new DragEvent(type, {
            bubbles: true, cancelable: true, dataTransfer: window.gaituDragged }));
          fire("dragenter");
          return fire("dragover");
        }""",
        specs(*files),
    )


def drop(page) -> bool:
    """Drop what drag_in() brought; whether the page took it (prevented the default)."""
    return page.evaluate(
        """() => !document.body.dispatchEvent(new DragEvent("drop", {
          bubbles: true, cancelable: true, dataTransfer: window.gaituDragged }))"""
    )


def drop_files(page, *files: dict) -> None:
    assert drag_in(page, *files)
    expect(page.locator("body")).to_have_class(DRAGGING)
    assert drop(page)
    expect(page.locator("body")).not_to_have_class(DRAGGING)


def preview_names(page) -> list[str]:
    return page.locator("[data-previews] li img").evaluate_all("imgs => imgs.map(i => i.alt)")


def chosen_names(page) -> list[str]:
    return page.eval_on_selector("#id_images", "input => [...input.files].map(f => f.name)")


def submit(page, instruction: str) -> None:
    page.fill("#id_instruction", instruction)
    page.locator("#upload-form button[type=submit]").click()


def newest_card(page, instruction: str):
    card = page.locator(".edit-card").first
    expect(card.locator(".instruction")).to_have_text(instruction)
    return card


def expect_succeeded(card) -> None:
    expect(card).to_have_attribute("data-status", "succeeded", timeout=EDIT_TIMEOUT)
    result = card.locator("img[data-result]")
    expect(result).to_be_visible()
    expect_loaded(result)


def expect_loaded(img) -> None:
    img.element_handle().wait_for_element_state("visible")
    img.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
    )


def api_edit(client, instruction: str, *, image: bytes | None = None, wait=True) -> dict:
    image = image or image_bytes((96, 64), "PNG")
    response = client.post(
        "/api/v1/edits",
        data={"instruction": instruction},
        files={"image": ("photo.png", image, "image/png")},
    )
    assert response.status_code == 202, response.text
    created = response.json()
    if not wait:
        return created
    return wait_for_edit(client, created["url"], timeout=EDIT_TIMEOUT / 1000)


def card_id(card) -> str:
    return card.get_attribute("id").removeprefix("edit-")


# 1 ------------------------------------------------------------------------------------------
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
    submit(page, "sepia, please")
    card = newest_card(page, "sepia, please")
    assert card.get_attribute("data-status") in ("queued", "running")
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
    expect(page.locator("#upload-form h1")).to_have_text("编辑图片")
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
    expect(page.locator("#upload-form h1")).to_have_text("Edit a picture")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live.url}/")
    fits()
    page.select_option("#language-select", "zh-hans")
    expect(page.locator("#upload-form h1")).to_have_text("编辑图片")


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
