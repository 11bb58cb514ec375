"""A batch in real headless Chromium against a running Gaitu: three pictures from the studio's
form in batch mode, one canceled while it waits and one damaged inside (it fails only when
the worker decodes it), the batch's page following them live, "Retry the failed ones", and
the ZIP of the results. The page is audited with axe, light and dark, desktop and phone.

The worker is started only once the batch is in, so that its edits wait until the test has
canceled one.
"""

import io
import signal
import zipfile

import pytest
from playwright.sync_api import expect

from tests.support.accessibility import add_axe, assert_accessible
from tests.support.live import split_gaitu, stop
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    EDIT_TIMEOUT,
    browser,
    contexts,
    png,
    sign_in,
)
from tests.support.upload_samples import camera_jpeg

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with split_gaitu(
        tmp_path_factory.mktemp("batches"),
        with_worker=False,
        GAITU_DEMO_LATENCY="1",
        GAITU_RATE_LIMIT="0",
    ) as gaitu:
        yield gaitu


def damaged_inside() -> dict:
    """A JPEG whose end is there (the request accepts it) with a segment of a bad length
    inside, which only decoding meets."""
    whole = camera_jpeg()
    scan = whole.index(b"\xff\xda")
    data = whole[:scan] + b"\xff\xc4\x00\x01" + whole[scan:]
    return {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": data}


def audit(page, where: str) -> None:
    """axe on the page as it is, light and dark, on a desktop and on a phone."""
    desktop = page.viewport_size
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for size, viewport in (("desktop", desktop), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            assert_accessible(page, f"{where} ({scheme}, {size})")
    page.set_viewport_size(desktop)
    page.emulate_media(color_scheme="light")


def item(page, place: int):
    return page.locator(".batch-item").nth(place - 1)


@pytest.mark.browser
def test_a_batch_from_the_studio_to_its_zip(live, sign_in, contexts):
    contexts.watchers.append(add_axe)
    page, _client = sign_in("batcher")

    page.locator("#id_mode_batch").check()
    page.set_input_files(
        "#id_images", [png("beach.png"), png("dog.png", color=(0, 90, 200)), damaged_inside()]
    )
    page.fill("#id_instruction", "warmer light")
    page.locator("#upload-form button[type=submit]").click()

    card = page.locator("#edit-list .batch-card").first
    expect(card.locator(".instruction")).to_contain_text("warmer light")
    expect(card.locator("[data-batch-summary]")).to_contain_text("0 of 3 done · 3 waiting")
    expect(card.locator(".batch-thumb")).to_have_count(3)
    card.get_by_role("link", name="Open the batch").click()

    expect(page.locator("h1")).to_have_text("warmer light")
    summary = page.locator(".batch-head [data-batch-summary]")
    expect(summary).to_contain_text("0 of 3 done · 3 waiting")
    expect(page.locator(".batch-item")).to_have_count(3)
    expect(item(page, 1)).to_contain_text("beach.png")
    expect(page.get_by_text("The results can be downloaded together")).to_be_visible()
    audit(page, "a batch whose edits wait")

    # One canceled while it waits: the edit's own Cancel, and the batch follows.
    item(page, 2).get_by_role("button", name="Cancel").click()
    expect(item(page, 2)).to_have_attribute("data-status", "canceled")
    expect(summary).to_contain_text("0 of 3 done · 1 canceled · 2 waiting")

    worker = live.start("run_worker")
    try:
        # Followed live, with no reload: the first succeeds, the damaged one fails saying so.
        expect(summary).to_contain_text("1 of 3 done · 1 failed · 1 canceled", timeout=EDIT_TIMEOUT)
        expect(item(page, 1)).to_have_attribute("data-status", "succeeded")
        expect(item(page, 3)).to_have_attribute("data-status", "failed")
        expect(item(page, 3).locator(".failure")).to_contain_text("seems damaged inside")
        expect(item(page, 1).locator("img[data-result]")).to_be_visible()
        audit(page, "a batch with a failed and a canceled edit")

        page.get_by_role("button", name="Retry the failed ones").click()
        expect(summary).to_contain_text("2 of 3 done · 1 failed", timeout=EDIT_TIMEOUT)
        expect(item(page, 2)).to_have_attribute("data-status", "succeeded")
        expect(page.get_by_role("button", name="Retry the failed ones")).to_have_count(0)
        expect(page.get_by_role("button", name="Cancel the rest")).to_have_count(0)
    finally:
        stop(worker, signal.SIGINT)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download all results (ZIP)").click()
    download = downloading.value
    assert download.suggested_filename.startswith("gaitu-batch-")
    with open(download.path(), "rb") as saved:
        archive = zipfile.ZipFile(io.BytesIO(saved.read()))
    names = archive.namelist()
    assert [name.rsplit(".", 1)[0] for name in names] == ["01-beach-edited", "02-dog-edited"]
    for place, name in ((1, names[0]), (2, names[1])):
        edit_id = item(page, place).get_attribute("data-edit-id")
        stored = page.request.get(f"{live.url}/media/{edit_id}/result/0/download")
        assert stored.ok
        assert archive.read(name) == stored.body()
