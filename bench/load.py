"""Load: 50 concurrent uploaders plus gallery and status browsing for 30 seconds, on loopback.

Goals: zero 5xx answers, zero "database is locked", nothing lost (every accepted edit
finishes). Prints requests per second and p95 latency. Submission rate limits are off here:
the point is what the server withstands, not what one person may do.
"""

import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx

from tests.support.factories import image_bytes
from tests.support.live import split_gaitu, wait_for_edit

SECONDS = 30
UPLOADERS = 50
BROWSERS = 8
USERS = 10


def run() -> list[tuple[str, str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-load-") as folder,
        split_gaitu(
            Path(folder),
            remote_gateway=True,
            GAITU_DEMO_LATENCY="1",
            GAITU_RATE_LIMIT="0",
            GAITU_MAX_ACTIVE_PER_USER="16",
            GAITU_WORKER_THREADS="32",
        ) as gaitu,
    ):
        clients = [gaitu.api(f"load{n}") for n in range(USERS)]
        timings, accepted = _hammer(clients)
        details = [wait_for_edit(client, url, timeout=120, every=0.5) for client, url in accepted]
        locked = len(re.findall("database is locked", gaitu.output()))
    finished = [detail["status"] for detail in details]
    problems = Counter(
        (d["error"] or {}).get("code") for d in details if d["status"] != "succeeded"
    )
    statuses = Counter(status for status, _ in timings.results)
    server_errors = sum(n for status, n in statuses.items() if status >= 500 or status == 0)
    lost = len(accepted) - finished.count("succeeded")
    lost_why = ", ".join(f"{code}: {n}" for code, n in problems.items())
    return [
        (
            f"{UPLOADERS} uploaders + {BROWSERS} browsers, {SECONDS} s",
            f"{len(timings.results) / SECONDS:.0f} req/s, p95 {timings.p95():.3f} s",
            "report",
        ),
        (
            "5xx or failed requests / database locked / lost edits",
            f"{server_errors} / {locked} / {lost} (of {len(accepted)} accepted) {lost_why}",
            "0 / 0 / 0",
        ),
    ]


class Timings:
    """Each request's answer status (0: no answer came) and seconds, from any number of threads."""

    def __init__(self) -> None:
        self.results: list[tuple[int, float]] = []
        self._lock = threading.Lock()

    def timed(self, call, *args, **kwargs) -> httpx.Response | None:
        began = time.monotonic()
        try:
            response = call(*args, **kwargs)
            status = response.status_code
        except httpx.HTTPError:
            response, status = None, 0
        with self._lock:
            self.results.append((status, time.monotonic() - began))
        return response

    def p95(self) -> float:
        return statistics.quantiles([seconds for _, seconds in self.results], n=20)[-1]


def keep_going(seconds: float, loops: list[Callable[[], None]]) -> None:
    """Each loop in a thread of its own, called again and again until the seconds are up."""
    stop_at = time.monotonic() + seconds

    def again(loop: Callable[[], None]) -> None:
        while time.monotonic() < stop_at:
            loop()

    with ThreadPoolExecutor(len(loops)) as pool:
        for job in [pool.submit(again, loop) for loop in loops]:
            job.result()


def _hammer(clients: list[httpx.Client]):
    timings = Timings()
    accepted: list[tuple[httpx.Client, str]] = []
    photo = image_bytes((800, 600), quality=85)

    def uploader(n: int) -> None:
        client = clients[n % len(clients)]
        response = timings.timed(
            client.post,
            "/api/v1/edits",
            data={"instruction": f"mirror {n}"},
            files={"image": ("p.jpg", photo, "image/jpeg")},
        )
        if response is not None and response.status_code == 202:
            url = response.json()["url"]
            accepted.append((client, url))
            for _ in range(3):
                timings.timed(client.get, url)
                time.sleep(0.3)

    def browser(n: int) -> None:
        client = clients[n % len(clients)]
        timings.timed(client.get, "/api/v1/edits")
        timings.timed(client.get, "/api/v1/edits?page=2")
        time.sleep(0.1)

    keep_going(
        SECONDS,
        [partial(uploader, n) for n in range(UPLOADERS)]
        + [partial(browser, n) for n in range(BROWSERS)],
    )
    return timings, accepted
