"""32 edits submitted at once against the demo gateway, against one edit alone, same run.

Figures: makespan of the 32 as a multiple of one edit's time (goal <= 1.3), pickup latency
(queued -> started) p50/p95, and the worker's peak resident memory.

Then fair use when nobody else waits: one person's BURST 24-megapixel JPEGs at once, twice
GAITU_MAX_ACTIVE_PER_USER's default, at `make run`'s defaults, against one such edit alone.
"""

import re
import sqlite3
import statistics
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.inflight import make_run
from bench.payload import make_photo
from tests.support.factories import image_bytes
from tests.support.live import Gaitu, split_gaitu, wait_for_edit, wait_until

LATENCY = 3.0
EDITS = 32
USERS = 8  # 4 edits each: the default GAITU_MAX_ACTIVE_PER_USER
BURST = 8  # one person's, twice the default GAITU_MAX_ACTIVE_PER_USER


@dataclass
class Burst:
    """What the edits' own timestamps say, so the client's polling does not blur the figures."""

    single: float  # one edit alone, queued to finished
    makespan: float  # the EDITS submitted at once: first queued to last finished
    pickups: list[float]  # each of the EDITS, queued to started


def run() -> list[tuple[str, str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-bench-") as folder,
        burst_installation(Path(folder)) as gaitu,
    ):
        figures = burst(gaitu)
        worker_pid = _worker_pid(gaitu)
        peak_kib = _peak_rss_kib(worker_pid)
    return [
        (
            f"{EDITS} edits at once, makespan / one edit",
            makespan_figure(figures),
            "<= 1.3",
        ),
        ("pickup latency p50 / p95", pickup_figure(figures), "report"),
        ("worker peak memory", f"{peak_kib / 1024:.0f} MiB", "report"),
        (
            f"one person's {BURST} 24 MP JPEGs at once, nobody else waiting (make run's"
            " defaults), makespan / one edit",
            makespan_figure(alone()),
            "<= 1.3",
        ),
    ]


def alone() -> Burst:
    """One 24 MP edit alone, then BURST from the same person at once: the cap (4) must not
    hold the burst back while nobody else's edit waits."""
    with tempfile.TemporaryDirectory(prefix="gaitu-alone-") as folder:
        photo_path = Path(folder) / "camera.jpg"
        make_photo(photo_path)
        photo = photo_path.read_bytes()
        with make_run(Path(folder) / "data", GAITU_DEMO_LATENCY=str(LATENCY)) as (gaitu, _):
            client = gaitu.api("alone")
            _submit_and_wait([(client, photo, "mirror [single]")])
            # As the person's studio would watch them: one live stream, no polling.
            unfinished = unfinished_in(gaitu.data_dir / "gaitu.sqlite3")
            batch = [(client, photo, "mirror [batch]") for _ in range(BURST)]
            _submit_and_wait(batch, unfinished=unfinished)
            return _figures(gaitu)


def burst_installation(data_dir: Path, **extra_env: str):
    """Web server and worker as split_gaitu starts them, a worker thread for each edit.

    The demo gateway runs in a process of its own, as a real gateway would elsewhere, so its
    Pillow work is not counted as Gaitu's.
    """
    return split_gaitu(
        data_dir,
        remote_gateway=True,
        GAITU_DEMO_LATENCY=str(LATENCY),
        GAITU_WORKER_THREADS=str(EDITS),
        **extra_env,
    )


def burst(gaitu: Gaitu) -> Burst:
    """One edit alone, then EDITS at once from USERS new people (bench0, bench1, ...), each
    waited for until it succeeded."""
    clients = [gaitu.api(f"bench{n}") for n in range(USERS)]
    photo = image_bytes((1024, 768), quality=90)
    _submit_and_wait([(clients[0], photo, "mirror [single]")])
    _submit_and_wait([(clients[n % USERS], photo, "mirror [batch]") for n in range(EDITS)])
    return _figures(gaitu)


def makespan_figure(figures: Burst) -> str:
    return (
        f"{figures.makespan / figures.single:.2f}x "
        f"({figures.makespan:.2f} s / {figures.single:.2f} s)"
    )


def pickup_figure(figures: Burst) -> str:
    p50 = statistics.median(figures.pickups)
    p95 = statistics.quantiles(figures.pickups, n=20)[-1]
    return f"{p50:.3f} s / {p95:.3f} s"


def _submit_and_wait(
    jobs, timeout: float = 120, every: float = 0.5, unfinished: Callable[[], int] | None = None
) -> None:
    """Each (client, photo, instruction) submitted at once, each waited for to succeed.

    Without `unfinished`, each client polls its edit every `every` seconds. With it (how many
    edits are still queued or running: unfinished_in), nobody polls: it is asked every
    `every` seconds, and each edit is read once at the end. Hundreds of clients each polling
    an edit a second are hundreds of requests a second for the web processes, more than two
    cores serve; the longer the edits take, the more of them, and the figures would measure
    the bench's own load. A person watches hundreds of edits through the studio's one live
    stream, which costs a socket."""

    def submitted(job) -> tuple[httpx.Client, str]:
        client, photo, instruction = job
        response = client.post(
            "/api/v1/edits",
            data={"instruction": instruction},
            files={"image": ("p.jpg", photo, "image/jpeg")},
        )
        assert response.status_code == 202, response.text
        return client, response.json()["url"]

    def succeeded(client: httpx.Client, url: str) -> None:
        detail = wait_for_edit(client, url, timeout=timeout, every=every)
        assert detail["status"] == "succeeded", detail

    with ThreadPoolExecutor(len(jobs)) as pool:
        if unfinished is None:
            list(pool.map(lambda job: succeeded(*submitted(job)), jobs))
            return
        edits = list(pool.map(submitted, jobs))
    wait_until(lambda: unfinished() == 0, timeout=timeout, what="every edit finished", every=every)
    for client, url in edits:
        succeeded(client, url)


def unfinished_in(database: Path) -> Callable[[], int]:
    """How many edits are queued or running, read from an embedded installation's SQLite file
    on a connection of the bench's own (in WAL mode a reader never holds a writer up)."""

    def count() -> int:
        with closing(sqlite3.connect(database, timeout=30)) as db:
            query = "SELECT count(*) FROM editor_edit WHERE status IN ('queued', 'running')"
            return db.execute(query).fetchone()[0]

    return count


def _figures(gaitu: Gaitu) -> Burst:
    script = (
        "from editor.models import Edit\n"
        "for e in Edit.objects.all():\n"
        "    print(e.instruction.split()[-1], e.queued_at.timestamp(),"
        " e.started_at.timestamp(), e.finished_at.timestamp())"
    )
    rows = [
        line.split() for line in gaitu.manage("shell", "--no-imports", "-c", script).splitlines()
    ]
    single = next(float(f) - float(q) for kind, q, _, f in rows if kind == "[single]")
    batch = [(float(q), float(s), float(f)) for kind, q, s, f in rows if kind == "[batch]"]
    makespan = max(f for _, _, f in batch) - min(q for q, _, _ in batch)
    pickups = [s - q for q, s, _ in batch]
    return Burst(single, makespan, pickups)


def _worker_pid(gaitu: Gaitu) -> int:
    return int(re.search(r"consumer started with \d+ thread, PID (\d+)", gaitu.output()).group(1))


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
