"""Memory: what everything `make run` starts holds while 8 edits of 24-megapixel JPEGs run at once.

`manage.py serve` is started as `make run` starts it: the serve parent (webapp/supervisor.py),
uvicorn serving the web, and the huey worker, all descendants of the one process. The demo
gateway runs in a process of its own outside that tree, configured as any real gateway is
(base URL, key), so its Pillow work on the pictures it is sent is not counted as Gaitu's (in
plain demo mode it runs inside the huey worker).

The sum of VmRSS over the tree is sampled every 50 ms from a background thread: idle (warmed
up, before the edits) and peak (while the edits are uploaded, shaped, sent and stored). A page
shared between processes (shared libraries) counts once in each, so the sum overstates; the
PSS sum, which counts shared pages once, is shown beside it.
"""

import signal
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench.payload import SIZE, make_photo
from bench.processes import kib_fields, role, tree
from tests.support.live import Gaitu, free_port, stop, wait_for_edit

EDITS = 8
USERS = 2  # 4 edits each: the default GAITU_MAX_ACTIVE_PER_USER
EVERY = 0.05
IDLE_SECONDS = 2.0


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="gaitu-memory-") as folder:
        photo_path = Path(folder) / "camera.jpg"
        make_photo(photo_path)
        photo = photo_path.read_bytes()
        with _serve_with_remote_gateway(Path(folder) / "data", GAITU_DEMO_LATENCY="3") as (
            gaitu,
            serve,
        ):
            clients = [gaitu.api(f"mem{n}") for n in range(USERS)]
            for client in clients:  # the web worker's first requests import what views need
                client.get("/api/v1/edits").raise_for_status()
            sampler = _Sampler(serve.pid)
            sampler.start()
            time.sleep(IDLE_SECONDS)
            idle = sampler.mark()
            began = time.monotonic()
            _submit_and_wait([(clients[n % USERS], photo) for n in range(EDITS)])
            seconds = time.monotonic() - began
            busy = sampler.stop()
    idle_rss = statistics.median(s.rss for s in idle)
    idle_pss = statistics.median(s.pss for s in idle)
    peak = max(busy, key=lambda s: s.rss)
    peak_pss = max(s.pss for s in busy)
    parts = _parts(peak)
    mib = 1024
    return [
        (
            f"idle, sum of VmRSS over serve's process tree ({peak.processes} processes:"
            " serve parent, uvicorn, huey worker)",
            f"{idle_rss / mib:.0f} MiB (PSS {idle_pss / mib:.0f} MiB; MiB: {_parts(idle[-1])})",
            "report",
        ),
        (
            f"peak while {EDITS} edits of {SIZE[0]}x{SIZE[1]} JPEGs"
            f" ({len(photo) / 2**20:.1f} MiB each) run at once ({seconds:.0f} s);"
            " demo gateway in its own process, not counted",
            f"{peak.rss / mib:.0f} MiB (PSS {peak_pss / mib:.0f} MiB; at the peak, MiB: {parts})",
            "<= 300 MiB peak",
        ),
        (
            "peak / idle (sum of VmRSS, same run)",
            f"{peak.rss / idle_rss:.2f}x",
            "report",
        ),
    ]


def _parts(sample: "_Sample") -> str:
    return ", ".join(f"{role} {kib / 1024:.0f}" for role, kib in sorted(sample.by_role.items()))


@contextmanager
def _serve_with_remote_gateway(data_dir: Path, **extra_env: str):
    """`manage.py serve` as in running_gaitu, with the demo gateway started as split_gaitu's
    remote_gateway starts it: its own process, outside serve's process tree."""
    data_dir.mkdir()
    gateway_port = free_port()
    gaitu = Gaitu(
        data_dir,
        GAITU_API_BASE=f"http://127.0.0.1:{gateway_port}/v1",
        GAITU_API_KEY="remote-demo",
        GAITU_FETCH_ALLOW_HOSTS="127.0.0.1",
        **extra_env,
    )
    gateway = gaitu.start("demo_gateway", "--port", str(gateway_port))
    try:
        serve = gaitu.start("serve")
        try:
            gaitu.wait_until_up(serve)
            yield gaitu, serve
        finally:
            code = stop(serve)
            assert code == 0, gaitu.output()
    finally:
        stop(gateway, signal.SIGTERM)  # as split_gaitu ends it


def _submit_and_wait(jobs) -> None:
    def one(job):
        client, photo = job
        response = client.post(
            "/api/v1/edits",
            data={"instruction": "mirror"},
            files={"image": ("camera.jpg", photo, "image/jpeg")},
        )
        assert response.status_code == 202, response.text
        detail = wait_for_edit(client, response.json()["url"], timeout=90, every=0.5)
        assert detail["status"] == "succeeded", detail

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(one, jobs))


class _Sample:
    def __init__(self, rss: int, pss: int, processes: int, by_role: dict[str, int]):
        self.rss, self.pss, self.processes, self.by_role = rss, pss, processes, by_role


class _Sampler(threading.Thread):
    """Every EVERY seconds: the descendants of root (found through /proc/*/stat parent links,
    as /proc/<pid>/task/*/children is not in every kernel) and the sums of their memory, KiB."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[_Sample] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self._stopping.wait(EVERY):
            sample = self._sample()
            with self._lock:
                self.samples.append(sample)

    def mark(self) -> list[_Sample]:
        """The samples so far, and start afresh."""
        with self._lock:
            taken, self.samples = self.samples, []
        return taken

    def stop(self) -> list[_Sample]:
        self._stopping.set()
        self.join()
        return self.mark()

    def _sample(self) -> _Sample:
        rss = pss = 0
        by_role: dict[str, int] = {}
        pids = tree(self.root)
        for pid in pids:
            try:
                status = kib_fields(Path(f"/proc/{pid}/status"))
                rollup = kib_fields(Path(f"/proc/{pid}/smaps_rollup"))
                name = role(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue  # it ended between the listing and the reading
            rss += status.get("VmRSS", 0)
            pss += rollup.get("Pss", 0)
            by_role[name] = by_role.get(name, 0) + status.get("VmRSS", 0)
        return _Sample(rss, pss, len(pids), by_role)
