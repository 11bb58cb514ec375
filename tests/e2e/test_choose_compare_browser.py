"""Picking in real headless Chromium against a running Gaitu: the result that stands for an
edit (kept across a reload, and the one "Download result" gives), and a comparison's winner,
with one model that fails beside one that makes a picture; and the comparison card passes axe.

The gateway is the demo gateway, run in this process, which refuses one model by name as a
gateway does a model it has no channel for (model_not_found): the demo gateway itself answers
every model alike, and its [demo:fail=…] directives would fail every model of a comparison.
"""

import io
import json
import re
import threading

import pytest
from playwright.sync_api import expect

from gateway.demo.server import DemoGateway, DemoHandler
from tests.support.accessibility import BLOCKING, RULE_TAGS, add_axe, describe, settle
from tests.support.factories import image_bytes
from tests.support.live import running_gaitu
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    api_edit,
    browser,
    contexts,
    newest_card,
    sign_in,
)

MADE = "gpt-4o-image"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
MISSING = "no-such-model"


class OneModelMissing(DemoHandler):
    """The demo gateway, but MISSING is a model it has no channel for."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            model = json.loads(body).get("model")
        except ValueError:
            model = None
        if model == MISSING:
            message = f"The model `{MISSING}` does not exist (request id: demo)"
            self._send_json(404, {"error": {"message": message, "code": "model_not_found"}})
            return
        self.rfile = io.BytesIO(body)  # read again by the demo gateway's own handler
        super().do_POST()


@pytest.fixture(scope="module")
def gateway():
    server = DemoGateway(models=[MADE, MISSING], latency=1.0)
    server.RequestHandlerClass = OneModelMissing
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def live(tmp_path_factory, gateway):
    with running_gaitu(
        tmp_path_factory.mktemp("choose"),
        GAITU_API_BASE=f"{gateway.base_url}/v1",
        GAITU_API_KEY="choose-demo",
        GAITU_FETCH_ALLOW_HOSTS="127.0.0.1",
        GAITU_MODELS=f"{MADE},{MISSING}",
        GAITU_RATE_LIMIT="0",
    ) as gaitu:
        yield gaitu


# axe on one card only: the rest of the studio page is audited by test_accessibility.py.
CARD_AXE_JS = (
    """async ([selector, options]) => (await window.axe.run(selector, options)).violations"""
)


def assert_card_accessible(page, selector: str, where: str) -> None:
    settle(page)
    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    found = []
    for violation in page.evaluate(CARD_AXE_JS, [selector, options]):
        nodes = [node for node in violation["nodes"] if node.get("impact") in BLOCKING]
        if nodes:
            found.append({**violation, "nodes": nodes})
    assert not found, describe(found, where)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def reload(page) -> None:
    page.reload()
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
def test_the_picked_result_stays_picked_and_is_the_one_downloaded(sign_in, live):
    page, client = sign_in("picker")
    edit = api_edit(client, "two takes [demo:n=2]")
    assert edit["status"] == "succeeded", edit
    assert len(edit["results"]) == 2
    reload(page)
    card = newest_card(page, "two takes [demo:n=2]")
    media = f"/media/{edit['id']}/result"
    download = card.locator("a[data-download-result]")
    expect(download).to_have_attribute("href", f"{media}/0/download")
    use = card.get_by_role("button", name="Use this one")
    expect(use).to_be_hidden()  # the one shown is the chosen one

    card.locator("[data-show-result]").nth(1).click()
    expect(use).to_be_visible()
    use.click()
    card = page.locator(f"#edit-{edit['id']}")
    expect(card.locator("[data-show-result]").nth(1)).to_have_attribute("aria-pressed", "true")
    expect(card.locator("[data-show-result]").nth(1).locator(".chosen-badge")).to_be_visible()

    reload(page)
    card = page.locator(f"#edit-{edit['id']}")
    expect(card.locator("a[data-download-result]")).to_have_attribute("href", f"{media}/1/download")
    expect(card.locator("a[data-again-link]")).to_have_attribute("href", f"/?again={edit['id']}:1")
    expect(card.locator("[data-show-result]").nth(1)).to_have_attribute("aria-pressed", "true")
    picked = page.request.get(f"{live.url}{media}/1/download").body()
    assert picked == client.get(edit["results"][1]["url"]).content


def submit_comparison(live, username: str, instruction: str) -> None:
    """Through the studio's own form, as the browser sends it without JavaScript."""
    session = live.session(username)
    studio = session.get("/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', studio).group(1)
    answer = session.post(
        "/",
        data={
            "csrfmiddlewaretoken": token,
            "instruction": instruction,
            "mode": "compare",
            "models": [MADE, MISSING],
        },
        files={"images": ("photo.png", image_bytes((96, 64), "PNG"), "image/png")},
    )
    assert answer.status_code in (200, 302), answer.text[:500]
    session.close()


@pytest.mark.browser
def test_a_comparison_shows_a_failed_model_beside_a_result_and_picks_the_winner(
    sign_in, live, contexts
):
    contexts.watchers.append(add_axe)
    page, _client = sign_in("comparer")
    submit_comparison(live, "comparer", "warmer light")
    page.goto(f"{live.url}/")
    page.wait_for_load_state("networkidle")
    card = page.locator(".comparison-card").first
    expect(card.locator(".instruction")).to_have_text("warmer light")
    columns = card.locator(".compare-column")
    expect(columns).to_have_count(2)
    made = card.locator(".compare-column", has=page.locator(f"h3:text-is('{MADE}')"))
    missing = card.locator(".compare-column", has=page.locator(f"h3:text-is('{MISSING}')"))

    # The live updates bring each column to its end, without a reload.
    expect(made).to_have_attribute("data-status", "succeeded", timeout=EDIT_TIMEOUT)
    expect(missing).to_have_attribute("data-status", "failed", timeout=EDIT_TIMEOUT)
    expect(missing.locator(".failure")).to_contain_text(
        "This model is not available on the gateway right now."
    )
    expect(missing.get_by_role("button", name="Retry")).to_be_visible()
    expect(missing.get_by_role("button", name="Pick as winner")).to_have_count(0)
    expect(made.locator("img[data-result]")).to_be_visible()
    expect(made.locator(".compare-usage")).to_contain_text("tokens")
    assert_card_accessible(
        page, "#" + card.get_attribute("id"), "a comparison card, one model failed"
    )

    made.get_by_role("button", name="Pick as winner").click()
    made = page.locator(".comparison-card .compare-column.winner")
    expect(made).to_have_count(1)
    expect(made.locator("h3")).to_contain_text(MADE)
    expect(made.locator(".winner-badge")).to_have_text("Winner")

    reload(page)
    expect(page.locator(".comparison-card .compare-column.winner h3")).to_contain_text(MADE)
    # On a desktop the models stand side by side.
    first, second = (
        box(column) for column in page.locator(".comparison-card .compare-column").all()
    )
    assert first["y"] == second["y"] and second["x"] >= first["x"] + first["width"]


@pytest.mark.browser
def test_on_a_phone_the_models_are_swiped_through(sign_in, live):
    page, _client = sign_in("swiper", **PHONE)
    submit_comparison(live, "swiper", "on the phone")
    reload(page)
    card = page.locator(".comparison-card").first
    expect(card.locator(".instruction")).to_have_text("on the phone")
    row = card.locator(".compare-columns")
    first, second = (box(column) for column in card.locator(".compare-column").all())
    # One column in view, the next beside it, reached by swiping the row sideways.
    assert first["y"] == second["y"]
    assert second["x"] >= first["x"] + first["width"]
    assert second["x"] + second["width"] > page.viewport_size["width"]
    assert row.evaluate("row => row.scrollWidth > row.clientWidth")
    assert row.evaluate("row => getComputedStyle(row).scrollSnapType").startswith("x")
