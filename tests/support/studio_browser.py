"""What the studio's browser tests share: one running Gaitu and one Chromium per test module,
people who sign in through the login form, helpers that drop, paste and wait like a person
would, and a watch on Content Security Policy violations (no_violations). Imported by the
studio's, gallery's, mask brush's and lightbox's browser tests, among others."""

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import browser as browser  # a fixture, found by name
from tests.support.browser import log_in
from tests.support.factories import image_bytes
from tests.support.live import PASSWORD, running_gaitu, wait_for_edit

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
def no_violations(contexts):
    """Every page of the test, watched for Content Security Policy violations."""
    violations: list[dict] = []

    def watch(context) -> None:
        context.expose_binding("gaituViolation", lambda _source, report: violations.append(report))
        context.add_init_script(VIOLATIONS_JS)

    contexts.watchers.append(watch)
    yield
    assert violations == []


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
    cards = ".edit-card, .comparison-card, .batch-card, #no-edits"
    expect(page.locator(f"#edit-list > :not({cards})")).to_have_count(0)


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
