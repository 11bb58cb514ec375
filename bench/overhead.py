"""What Gaitu adds to the gateway's time: from pressing Edit until the browser shows the
result, minus the gateway's own time, for 12- and 24-megapixel photos, in real Chromium
against what `make run` starts (`manage.py serve`: web server and worker).

The gateway is the demo gateway in a process of its own, configured as any real gateway is
(base URL, key), so that its Pillow work is not done on Gaitu's behalf inside the worker. It
answers 2 seconds after a request's body is in, its own picture work included, and this
bench's copy of it (serve_gateway) notes when each request came, when its answer had gone and
how many bytes it carried. What is subtracted is that time as the gateway measured it (on a
busy machine a little over 2 s), and the notes split Gaitu's part into before and after it.

Goals: p50 <= 0.10 of the gateway's time (0.2 s) at 12 MP, <= 0.125 (0.25 s) at 24 MP, with
at most 1/6 of the original's bytes sent upstream.
"""

import json
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.payload import make_photo
from bench.requests import _photo
from tests.support.browser import launch, log_in
from tests.support.live import PASSWORD, Gaitu, free_port, stop

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_SECONDS = 2.0
EDITS = 20
PHOTOS: list[tuple[str, Callable[[Path], object], str, str]] = [
    # name, maker, goal as a fraction of the gateway's time (in seconds), goal for the bytes.
    # The 12 MP photo is mostly grain (bench/requests.py), which no downscale makes smaller
    # than its share of the pixels: its bytes are reported; the 24 MP one is photo-like.
    ("12 MP", _photo, "<= 0.10 (0.2 s)", "report"),
    ("24 MP", make_photo, "<= 0.125 (0.25 s)", "<= 0.167 (1/6)"),
]
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
TOKEN = re.compile(rb"overhead-\d+-\d+")  # in each instruction, so the gateway can name it

STAGES = (
    "pressing Edit to stored",
    "waiting for a worker",
    "picked up to at the gateway",
    "gateway",
    "answered to finished",
    "finished to shown",
)


def run() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="gaitu-overhead-") as folder:
        stamps = Path(folder) / "gateway.jsonl"
        with (
            _serve_with_stamping_gateway(Path(folder) / "data", stamps) as gaitu,
            sync_playwright() as playwright,
        ):
            gaitu.api("bench")
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(page, gaitu.url, "bench", PASSWORD)
            for index, (name, maker, goal, bytes_goal) in enumerate(PHOTOS):
                photo = Path(folder) / f"photo-{index}.jpg"
                maker(photo)
                rows += _measure(page, gaitu, photo, index, name, (goal, bytes_goal), stamps)
            browser.close()
    return rows


def _measure(
    page, gaitu: Gaitu, photo: Path, index: int, name: str, goals: tuple[str, str], stamps: Path
):
    overheads, stages, sent = [], [], []
    for n in range(-1, EDITS):  # the first, not counted, warms the web and worker processes
        instruction = f"mirror overhead-{index}-{n + 1}"
        page.set_input_files("#id_images", str(photo))
        page.fill("#id_instruction", instruction)
        # As a person would: the picture's preview is up before they press Edit.
        page.wait_for_function(PREVIEW_SHOWN, polling="raf")
        page.evaluate("() => document.querySelector('[data-previews] img').decode()")
        # Both ends are stamped in the page, by its clock: the press as the click arrives,
        # the result at the first frame it is there. Playwright's own delays stay out.
        page.evaluate(STAMP_THE_PRESS)
        page.locator("#upload-form button[type=submit]").click()
        page.wait_for_function(RESULT_SHOWN, arg=instruction, polling="raf", timeout=60_000)
        pressed, shown = page.evaluate("() => [window.pressedAt, window.shownAt]")
        if n < 0:
            continue
        gateway = _gateway_stamp(stamps, instruction.split()[-1])
        # The gateway's own time as it measured it: on a busy machine a little more than
        # GATEWAY_SECONDS, and none of that is Gaitu's.
        overheads.append((shown - pressed) / 1000 - (gateway["answered"] - gateway["received"]))
        sent.append(gateway["bytes"])
        database = gaitu.data_dir / "gaitu.sqlite3"
        stages.append(_stages(database, instruction, pressed / 1000, shown / 1000, gateway))
    p50 = statistics.median(overheads)
    where = ", ".join(
        f"{stage} {statistics.median(s[i] for s in stages):.3f} s" for i, stage in enumerate(STAGES)
    )
    original = photo.stat().st_size
    body = statistics.median(sent)
    return [
        (
            f"{name}: submit to result shown, minus the gateway's own time"
            f" ({GATEWAY_SECONDS:g} s), p50 of {EDITS}",
            f"{p50 / GATEWAY_SECONDS:.3f} of the gateway's time ({p50:.3f} s;"
            f" p90 {statistics.quantiles(overheads, n=10)[-1]:.3f} s)",
            goals[0],
        ),
        (f"{name}: where the time goes, p50 of each", where, "report"),
        (
            f"{name}: bytes sent upstream (the whole request) / original bytes",
            f"{body / original:.3f} ({body / 2**20:.2f} MiB / {original / 2**20:.2f} MiB)",
            goals[1],
        ),
    ]


def _stages(
    database: Path, instruction: str, pressed: float, shown: float, gateway: dict
) -> tuple[float, ...]:
    """The edit's own timestamps and the gateway's (all the same clock) split the total."""
    with closing(sqlite3.connect(database)) as db:
        row = db.execute(
            "SELECT created_at, started_at, finished_at FROM editor_edit WHERE instruction = ?",
            (instruction,),
        ).fetchone()
    created, started, finished = (
        datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() for value in row
    )
    return (
        created - pressed,
        started - created,
        gateway["received"] - started,
        gateway["answered"] - gateway["received"],
        finished - gateway["answered"],
        shown - finished,
    )


def _gateway_stamp(stamps: Path, token: str) -> dict:
    """The gateway's note of the request that carried `token` (written as it answered)."""
    for _ in range(100):
        for line in stamps.read_text().splitlines():
            note = json.loads(line)
            if note["token"] == token:
                return note
        time.sleep(0.05)
    raise AssertionError(f"the gateway noted no request for {token}")


@contextmanager
def _serve_with_stamping_gateway(data_dir: Path, stamps: Path):
    """`manage.py serve` as `make run` starts it, pointed at this bench's demo gateway in a
    process of its own (as split_gaitu's remote_gateway and bench/memory.py do)."""
    data_dir.mkdir()
    port = free_port()
    gaitu = Gaitu(
        data_dir,
        GAITU_API_BASE=f"http://127.0.0.1:{port}/v1",
        GAITU_API_KEY="remote-demo",
        GAITU_FETCH_ALLOW_HOSTS="127.0.0.1",
        GAITU_DEMO_LATENCY=str(GATEWAY_SECONDS),
        # 21 edits of each photo follow one another faster than the default cap of edits in
        # a minute allows one person; the cap is not what is measured.
        GAITU_RATE_LIMIT="0",
    )
    command = [sys.executable, "-m", "bench.overhead", str(port), str(stamps)]
    gateway = subprocess.Popen(command, cwd=ROOT)
    try:
        serve = gaitu.start("serve")
        try:
            gaitu.wait_until_up(serve)
            yield gaitu
        finally:
            try:
                code = stop(serve)
            finally:
                gaitu.kill_leftovers()
            assert code == 0, gaitu.output()
    finally:
        stop(gateway, signal.SIGTERM)


def serve_gateway(port: int, stamps: Path) -> None:
    """The demo gateway, noting for each request when its first line came in, when its body
    was all in (where the gateway's GATEWAY_SECONDS start), when its answer had gone, and its
    size in bytes, one JSON line a request, by the instruction's token."""
    from gateway.demo.server import DemoGateway, DemoHandler
    from gateway.demo.wire import Exchange

    lock = threading.Lock()

    class StampingHandler(DemoHandler):
        def do_POST(self) -> None:
            self.arrived = time.time()
            super().do_POST()
            answered = time.time()
            token = TOKEN.search(self.body)
            note = {
                "token": token.group().decode() if token else "",
                "arrived": self.arrived,
                "received": self.received,
                "answered": answered,
                "bytes": len(self.body) + len(bytes(self.raw_requestline)) + len(str(self.headers)),
            }
            with lock, stamps.open("a") as file:
                file.write(json.dumps(note) + "\n")

        def _exchange(self, body: bytes) -> Exchange:
            self.body, self.received = body, time.time()
            return super()._exchange(body)

    server = DemoGateway(port=port, latency=GATEWAY_SECONDS)
    server.RequestHandlerClass = StampingHandler
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    serve_gateway(int(sys.argv[1]), Path(sys.argv[2]))
