"""In flight: 256 edits at once against a gateway that takes 30 s, at `make run`'s defaults.

`manage.py serve` is started as `make run` starts it (no GAITU_WORKER_THREADS, no
GAITU_WEB_PROCESSES of the tests': the defaults), so one worker process runs every edit. The
demo gateway runs in a process of its own, taking LATENCY seconds an answer, as a slow real one
would. The photos are 12-megapixel JPEGs of about 5 MB (bench/requests._photo), the same file
256 times; EDITS / GAITU_MAX_ACTIVE_PER_USER people send them, so that fair use's cap is not
what is measured. Nobody polls the 256 edits while they run (bench/concurrency.py
_submit_and_wait): the bench counts the unfinished ones in the database file once a second.

Figures: makespan of the 256 (first queued to last finished) against one edit alone in the
same run; the worker process's peak resident memory (VmHWM) and where it goes at the peak
(/proc smaps_rollup, sampled); the pickup (queued to started) p50 / p95.
"""

import re
import signal
import statistics
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.processes import cpu_by_role, kib_fields
from bench.requests import _photo
from tests.support.live import Gaitu, children, free_port, stop

LATENCY = 30.0
EDITS = 256
CAP = 4  # GAITU_MAX_ACTIVE_PER_USER's default: each person sends this many
EVERY = 0.25  # seconds between samples of the worker's memory


def run() -> list[tuple[str, str, str]]:
    # Here, not at the top: bench/concurrency.py takes make_run from this module.
    from bench.concurrency import _figures, _submit_and_wait, unfinished_in

    with tempfile.TemporaryDirectory(prefix="gaitu-inflight-") as folder:
        photo = _photo(Path(folder) / "camera.jpg")
        with make_run(
            Path(folder) / "data",
            GAITU_DEMO_LATENCY=str(LATENCY),
            # The bench's 64 people all come from one address, where they would from 64.
            GAITU_MAX_CONNECTIONS_PER_ADDRESS=str(4 * EDITS),
        ) as (gaitu, serve):
            people = _people(gaitu, EDITS // CAP)
            worker = children(serve.pid)["worker"]
            _submit_and_wait([(people[0], photo, "mirror [single]")], timeout=900, every=1.0)
            sampler = _Sampler(worker)
            sampler.start()
            cpu_before = cpu_by_role()  # this process's tree: Gaitu, the gateway, the clients
            _submit_and_wait(
                [(people[n % len(people)], photo, "mirror [batch]") for n in range(EDITS)],
                timeout=900,
                every=1.0,
                unfinished=unfinished_in(gaitu.data_dir / "gaitu.sqlite3"),
            )
            sampler.stop()
            cpu_after = cpu_by_role()
            peak_kib = kib_fields(Path(f"/proc/{worker}/status"))["VmHWM"]
            threads = _threads_line(gaitu.output())
            burst = _figures(gaitu)
            single, makespan, pickups = burst.single, burst.makespan, burst.pickups
    p50 = statistics.median(pickups)
    p95 = statistics.quantiles(pickups, n=20)[-1]
    return [
        (
            f"{EDITS} edits at once (12 MP JPEGs, gateway {LATENCY:.0f} s), makespan / one edit",
            f"{makespan / single:.2f}x ({makespan:.1f} s / {single:.1f} s)",
            "<= 1.2",
        ),
        (
            f"worker peak memory (VmHWM; {threads}); at the peak of the samples",
            f"{peak_kib / 1024:.0f} MiB ({sampler.peak_parts()})",
            "<= 250 MiB",
        ),
        ("pickup (queued -> started) p50 / p95", f"{p50:.3f} s / {p95:.3f} s", "p95 <= 1 s"),
        (
            "CPU seconds an edit, by process (the bench's own clients included)",
            _cpu_line(cpu_before, cpu_after),
            "report",
        ),
    ]


def _cpu_line(before: dict[str, float], after: dict[str, float]) -> str:
    """What the burst cost each role in CPU time, per edit: where the makespan goes on a
    machine whose cores are all busy."""
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    parts = ", ".join(
        f"{name} {seconds / EDITS:.3f}"
        for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])
    )
    return f"{sum(spent.values()) / EDITS:.3f} in all ({parts})"


@contextmanager
def make_run(data_dir: Path, **extra_env: str):
    """`manage.py serve` at make run's defaults, against the demo gateway in its own process."""
    data_dir.mkdir()
    gateway_port = free_port()
    gaitu = Gaitu(
        data_dir,
        GAITU_API_BASE=f"http://127.0.0.1:{gateway_port}/v1",
        GAITU_API_KEY="remote-demo",
        GAITU_FETCH_ALLOW_HOSTS="127.0.0.1",
        **extra_env,
    )
    for name in ("GAITU_WORKER_THREADS", "GAITU_WEB_PROCESSES"):  # the tests' own, not defaults
        gaitu.env.pop(name, None)
    gateway = gaitu.start("demo_gateway", "--port", str(gateway_port))
    try:
        serve = gaitu.start("serve")
        try:
            gaitu.wait_until_up(serve)
            yield gaitu, serve
        except BaseException:
            # The logs go with the bench's temporary folder: the server's last words first.
            print(_server_errors(gaitu.output()), file=sys.stderr)
            raise
        finally:
            stop(serve)
    finally:
        stop(gateway, signal.SIGTERM)  # as split_gaitu ends it


def _people(gaitu: Gaitu, count: int) -> list[httpx.Client]:
    """count people with an API token each, made in one process (a command each is slow)."""
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.models import ApiToken\n"
        f"for n in range({count}):\n"
        "    user = get_user_model().objects.create_user(f'flight{n}', password='pw-flight-1')\n"
        "    print(ApiToken.issue(user, name='bench')[1])\n"
    )
    tokens = gaitu.manage("shell", "--no-imports", "-c", script).split()
    limits = httpx.Limits(max_connections=EDITS)
    return [
        httpx.Client(
            base_url=gaitu.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
            limits=limits,
        )
        for token in tokens
    ]


def _server_errors(output: str, lines: int = 60) -> str:
    """The tracebacks and error lines in the server's output, or its last lines."""
    said = output.splitlines()
    first = next((n for n, line in enumerate(said) if "Traceback" in line or " 500 " in line), None)
    shown = said[first : first + lines] if first is not None else said[-lines:]
    return "--- server output ---\n" + "\n".join(shown)


def _threads_line(output: str) -> str:
    found = re.search(r"consumer started with (\d+) thread", output)
    return f"{found.group(1)} huey threads" if found else "huey threads unknown"


class _Sampler(threading.Thread):
    """The worker's memory every EVERY seconds, kept at its highest: anonymous (the heap and
    thread stacks), file-backed (libraries, mapped files), and its thread count then."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak: dict[str, int] = {}
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(EVERY):
            try:
                status = kib_fields(Path(f"/proc/{self.pid}/status"))
            except (FileNotFoundError, ProcessLookupError):
                return
            if status.get("VmRSS", 0) > self.peak.get("VmRSS", 0):
                self.peak = status

    def stop(self) -> None:
        self._stopping.set()
        self.join()

    def peak_parts(self) -> str:
        mib = {key: self.peak.get(key, 0) / 1024 for key in ("VmRSS", "RssAnon", "RssFile")}
        return (
            f"at {mib['VmRSS']:.0f} MiB: anonymous {mib['RssAnon']:.0f}, files"
            f" {mib['RssFile']:.0f}, {self.peak.get('Threads', 0)} threads"
        )
