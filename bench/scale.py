"""The scale-out profile (PostgreSQL, Redis, S3, two web processes) against the embedded
one (SQLite, its queue file, pictures on disk) held to one web process, same run, same machine.
Both profiles' default is one web process per core; bench/many.py measures them at it.

Both installations run side by side, each as split_gaitu starts one: `serve --no-worker`, one
`run_worker`, the demo gateway in a process of its own. The scale-out one uses throwaway
PostgreSQL, Redis and S3 (s3rver) servers on loopback (tests/support/servers.py), which share
the machine's cores with everything else, as they would not in a real deployment.

On each: bench/concurrency.py's burst (32 edits at once, demo gateway 3 s per edit), then a
page-request load: CLIENTS connections (TABS per person, sharing the person's session) look at
their gallery, its thumbnails and an edit's page over and over, with no pause, for ROUNDS
rounds of SECONDS that alternate between the two installations, so that the machine's noise
falls on both alike.

Goals: the scale-out profile's extra round trips (jobs through Redis, rows in PostgreSQL,
pictures to and from S3, all over TCP) add at most a fifth to the burst's makespan; and its web
processes, one per core as its default has it, serve the page load at least as fast as the one
embedded process (throughput >= 1.0x, p95 <= 1.0x). On one machine these are the profile's
costs, not its gains: what it buys is more machines, which a one-machine bench cannot show.
The web processes are counted, not taken from GAITU_WEB_PROCESSES.
"""

import re
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx

from bench.concurrency import (
    EDITS,
    USERS,
    Burst,
    burst,
    burst_installation,
    makespan_figure,
    pickup_figure,
)
from bench.load import Timings, keep_going
from tests.support.live import Gaitu
from tests.support.servers import running_servers

WEB_PROCESSES = 2
TABS = 2
CLIENTS = USERS * TABS
ROUNDS = 2
SECONDS = 10
KINDS = ("gallery", "thumbnail", "edit page")
# Unset means embedded, whatever the environment the bench runs in says (blank = unset).
EMBEDDED = {"DATABASE_URL": "", "GAITU_QUEUE_URL": "", "GAITU_S3_BUCKET": ""}


def run() -> list[tuple[str, str, str]]:
    with ExitStack() as stack:
        # A folder of their own: as root, PostgreSQL runs as another user, who is given it.
        servers_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-servers-"))
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-scale-"))
        servers = stack.enter_context(running_servers(Path(servers_folder)))
        scale_out = servers.environment()
        del scale_out["GAITU_TEST_PROFILE"]  # the test suite's mark: this is no test run
        installations = {
            "embedded": stack.enter_context(
                burst_installation(Path(folder) / "embedded", **EMBEDDED, GAITU_WEB_PROCESSES="1")
            ),
            "scale-out": stack.enter_context(
                burst_installation(
                    Path(folder) / "scale-out",
                    **scale_out,
                    GAITU_WEB_PROCESSES=str(WEB_PROCESSES),
                )
            ),
        }
        bursts = {name: burst(gaitu) for name, gaitu in installations.items()}
        visitors = {name: _visitors(gaitu) for name, gaitu in installations.items()}
        timings = {name: {kind: Timings() for kind in KINDS} for name in installations}
        for name in installations:  # each web process's first requests are slower
            _load(visitors[name], {kind: Timings() for kind in KINDS}, seconds=2)
        for _ in range(ROUNDS):
            for name in installations:
                _load(visitors[name], timings[name], seconds=SECONDS)
        processes = {name: _web_processes(gaitu) for name, gaitu in installations.items()}
    return _rows(bursts, timings, processes)


def _visitors(gaitu: Gaitu) -> list:
    """A look at their pictures for each of CLIENTS connections, TABS per person of the burst,
    as a browser with nothing cached would: the gallery, its thumbnails, one edit's page."""
    visitors = []
    for n in range(USERS):
        session = gaitu.session(f"bench{n}")
        gallery = session.get("/gallery/").text
        edit_page = re.search(r'href="(/edits/[0-9a-f-]{36}/)"', gallery).group(1)
        thumbnails = sorted(set(re.findall(r'<img src="([^"]+)"', gallery)))
        tabs = [session] + [
            httpx.Client(base_url=gaitu.url, timeout=30, cookies=session.cookies)
            for _ in range(TABS - 1)
        ]
        visitors += [partial(_visit, tab, thumbnails, edit_page) for tab in tabs]
    return visitors


def _visit(
    client: httpx.Client, thumbnails: list[str], edit_page: str, timings: dict[str, Timings]
) -> None:
    timings["gallery"].timed(client.get, "/gallery/")
    for thumbnail in thumbnails:
        timings["thumbnail"].timed(client.get, thumbnail)
    timings["edit page"].timed(client.get, edit_page)


def _load(visitors: list, timings: dict[str, Timings], seconds: float) -> None:
    keep_going(seconds, [partial(visit, timings=timings) for visit in visitors])


def _web_processes(gaitu: Gaitu) -> int:
    """The processes answering on the installation's port, counted rather than taken from
    GAITU_WEB_PROCESSES: uvicorn's spawned workers when it has them, else uvicorn itself."""
    mine = gaitu.processes()
    commands = {pid: _read(f"/proc/{pid}/cmdline") for pid in mine}
    # python -m uvicorn ... (the supervisor's own command line holds the word too)
    servers = [pid for pid in mine if commands[pid].split(b"\0")[1:3] == [b"-m", b"uvicorn"]]
    spawned = [pid for pid in mine if b"spawn_main" in commands[pid] and _parent(pid) in servers]
    return len(spawned) or len(servers)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _parent(pid: int) -> int:
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
    stat = _read(f"/proc/{pid}/stat").decode()
    return int(stat.rsplit(")", 1)[1].split()[1]) if stat else 0


def _rows(
    bursts: dict[str, Burst], timings: dict[str, dict[str, Timings]], processes: dict[str, int]
) -> list[tuple[str, str, str]]:
    embedded, scale_out = bursts["embedded"], bursts["scale-out"]
    every = {name: _together(by_kind.values()) for name, by_kind in timings.items()}
    rates = {name: len(t.results) / (ROUNDS * SECONDS) for name, t in every.items()}
    failed = {name: sum(status != 200 for status, _ in t.results) for name, t in every.items()}
    load = (
        f"{CLIENTS} connections, {ROUNDS} x {SECONDS} s each, scale-out "
        f"({processes['scale-out']} web processes) / embedded ({processes['embedded']})"
    )
    p95_by_kind = ", ".join(
        f"{kind} {timings['scale-out'][kind].p95() * 1000:.0f} ms / "
        f"{timings['embedded'][kind].p95() * 1000:.0f} ms"
        for kind in KINDS
    )
    return [
        (
            f"{EDITS}-edit burst makespan, scale-out / embedded",
            _ratio(scale_out.makespan, embedded.makespan, "s"),
            "<= 1.2",
        ),
        (
            f"{EDITS} edits at once, makespan / one edit: scale-out; embedded",
            f"{makespan_figure(scale_out)}; {makespan_figure(embedded)}",
            "<= 1.3 (as Concurrency)",
        ),
        (
            "burst pickup latency p50 / p95: scale-out; embedded",
            f"{pickup_figure(scale_out)}; {pickup_figure(embedded)}",
            "report",
        ),
        (
            f"page-request load throughput: {load}",
            f"{rates['scale-out'] / rates['embedded']:.2f}x "
            f"({rates['scale-out']:.0f} req/s / {rates['embedded']:.0f} req/s)",
            ">= 1.0",
        ),
        (
            f"page-request load p95 latency: {load}",
            _ratio(every["scale-out"].p95() * 1000, every["embedded"].p95() * 1000, "ms"),
            "<= 1.0",
        ),
        ("page-request load p95 by request, scale-out / embedded", p95_by_kind, "report"),
        (
            "page requests answered other than 200, scale-out / embedded",
            f"{failed['scale-out']} / {failed['embedded']} "
            f"(of {len(every['scale-out'].results)} / {len(every['embedded'].results)})",
            "0 / 0",
        ),
    ]


def _together(parts: Iterable[Timings]) -> Timings:
    merged = Timings()
    for part in parts:
        merged.results += part.results
    return merged


def _ratio(measured: float, baseline: float, unit: str) -> str:
    places = 2 if unit == "s" else 0
    return (
        f"{measured / baseline:.2f}x ({measured:.{places}f} {unit} / {baseline:.{places}f} {unit})"
    )
