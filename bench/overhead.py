"""What Gaitu adds to the gateway's time: from pressing Edit until the browser shows the
result, minus the demo gateway's own 2 seconds, for 12-megapixel photos, in real Chromium
against what `make run` starts. Goal: p50 <= 0.15 of the gateway's time (0.3 s)."""

import sqlite3
import statistics
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.requests import _photo
from tests.support.browser import launch, log_in
from tests.support.live import PASSWORD, running_gaitu

GATEWAY_SECONDS = 2.0
EDITS = 20
LOADED = "img => Boolean(img && img.complete && img.naturalWidth > 0)"
PREVIEW_SHOWN = f"() => ({LOADED})(document.querySelector('[data-previews] img'))"
NOW = "performance.timeOrigin + performance.now()"  # ms since the epoch, as time.time() has it
STAMP_THE_PRESS = f"""() => document.addEventListener(
    "click", () => {{ window.pressedAt = {NOW}; }}, {{capture: true, once: true}}
)"""
RESULT_SHOWN = f"""instruction => {{
    const img = [...document.querySelectorAll(".edit-card")]
        .find(card => card.querySelector(".instruction").textContent === instruction)
        ?.querySelector("img[data-result]");
    return ({LOADED})(img) && (window.shownAt = {NOW});
}}"""


def run() -> list[tuple[str, str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-overhead-") as folder,
        running_gaitu(Path(folder) / "data", GAITU_DEMO_LATENCY=str(GATEWAY_SECONDS)) as gaitu,
        sync_playwright() as playwright,
    ):
        photo = Path(folder) / "photo.jpg"
        _photo(photo)
        gaitu.api("bench")
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, gaitu.url, "bench", PASSWORD)
        overheads, stages = [], []
        for n in range(EDITS):
            page.set_input_files("#id_images", str(photo))
            page.fill("#id_instruction", f"mirror {n}")
            # As a person would: the picture's preview is up before they press Edit.
            page.wait_for_function(PREVIEW_SHOWN, polling="raf")
            page.evaluate("() => document.querySelector('[data-previews] img').decode()")
            # Both ends are stamped in the page, by its clock: the press as the click arrives,
            # the result at the first frame it is there. Playwright's own delays stay out.
            page.evaluate(STAMP_THE_PRESS)
            page.locator("#upload-form button[type=submit]").click()
            page.wait_for_function(RESULT_SHOWN, arg=f"mirror {n}", polling="raf", timeout=60_000)
            pressed, shown = page.evaluate("() => [window.pressedAt, window.shownAt]")
            overheads.append((shown - pressed) / 1000 - GATEWAY_SECONDS)
            database = gaitu.data_dir / "gaitu.sqlite3"
            stages.append(_stages(database, f"mirror {n}", pressed / 1000, shown / 1000))
        browser.close()
    p50 = statistics.median(overheads)
    where = ", ".join(
        f"{name} {statistics.median(s[i] for s in stages):.3f} s" for i, name in enumerate(STAGES)
    )
    return [
        (
            f"submit to result shown, minus the gateway's {GATEWAY_SECONDS:g} s, p50 of {EDITS}",
            f"{p50 / GATEWAY_SECONDS:.2f} of the gateway's time ({p50:.2f} s)",
            "<= 0.15 (0.3 s)",
        ),
        ("where the time goes, p50 of each", where, "report"),
    ]


STAGES = (
    "pressing Edit to stored",
    "waiting for a worker",
    "worker beyond the gateway",
    "finished to shown",
)


def _stages(database: Path, instruction: str, clicked: float, shown: float) -> tuple[float, ...]:
    """The edit's own timestamps (same clock) split the total."""
    with closing(sqlite3.connect(database)) as db:
        row = db.execute(
            "SELECT created_at, started_at, finished_at FROM editor_edit WHERE instruction = ?",
            (instruction,),
        ).fetchone()
    created, started, finished = (
        datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() for value in row
    )
    return (
        created - clicked,
        started - created,
        finished - started - GATEWAY_SECONDS,
        shown - finished,
    )
