"""32 edits submitted at once against the demo gateway, against one edit alone, same run.

Figures: makespan of the 32 as a multiple of one edit's time (goal <= 1.3), pickup latency
(queued -> started) p50/p95, and the worker's peak resident memory.
"""

import re
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.factories import image_bytes
from tests.support.live import Gaitu, split_gaitu, wait_for_edit

LATENCY = 3.0
EDITS = 32
USERS = 8  # 4 edits each: the default GAITU_MAX_ACTIVE_PER_USER


def run() -> list[tuple[str, str, str]]:
    # The demo gateway runs in a process of its own, as a real gateway would elsewhere,
    # so its Pillow work is not counted as Gaitu's.
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-bench-") as folder,
        split_gaitu(
            Path(folder),
            remote_gateway=True,
            GAITU_DEMO_LATENCY=str(LATENCY),
            GAITU_WORKER_THREADS=str(EDITS),
        ) as gaitu,
    ):
        clients = [gaitu.api(f"bench{n}") for n in range(USERS)]
        photo = image_bytes((1024, 768), quality=90)
        _submit_and_wait([(clients[0], photo, "mirror [single]")])
        _submit_and_wait([(clients[n % USERS], photo, "mirror [batch]") for n in range(EDITS)])
        single, makespan, pickups = _figures(gaitu)
        worker_pid = _worker_pid(gaitu)
        peak_kib = _peak_rss_kib(worker_pid)
    p50 = statistics.median(pickups)
    p95 = statistics.quantiles(pickups, n=20)[-1]
    return [
        (
            f"{EDITS} edits at once, makespan / one edit",
            f"{makespan / single:.2f}x ({makespan:.2f} s / {single:.2f} s)",
            "<= 1.3",
        ),
        ("pickup latency p50 / p95", f"{p50:.3f} s / {p95:.3f} s", "report"),
        ("worker peak memory", f"{peak_kib / 1024:.0f} MiB", "report"),
    ]


def _submit_and_wait(jobs) -> None:
    def one(job):
        client, photo, instruction = job
        response = client.post(
            "/api/v1/edits",
            data={"instruction": instruction},
            files={"image": ("p.jpg", photo, "image/jpeg")},
        )
        detail = wait_for_edit(client, response.json()["url"], timeout=120, every=0.5)
        assert detail["status"] == "succeeded", detail

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(one, jobs))


def _figures(gaitu: Gaitu) -> tuple[float, float, list[float]]:
    """From the edits' own timestamps, so the client's polling does not blur the figures:
    one edit's time, the batch's makespan (first queued to last finished), pickups."""
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
    return single, makespan, pickups


def _worker_pid(gaitu: Gaitu) -> int:
    return int(re.search(r"consumer started with \d+ thread, PID (\d+)", gaitu.output()).group(1))


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
