"""Live-update streams: what 1,000 open ones cost one web process, and how soon they hear.

`manage.py serve --no-worker` starts the web server as `make run` does; without a worker the
followed edits stay queued, so every change is the bench's own: a separate process (a
Django shell, as a worker would be) sets an edit's progress and prints the moment its commit
returned. One person's session opens the streams, 10 at a time (tabs arriving; how many
arrive at the same instant moves the memory figure, see below): 100 queued edits, stream n
following edit n % 100 (so 10 streams each) and one edit they all follow. Figures are against
the same server with none open, in the same run:

- memory: the web process's VmRSS with 1,000 open minus with none (both once settled). It
  is what the open streams hold plus the allocator's high-water mark of their starts: each
  start is an ordinary Django request (session, user, ownership check), and requests that
  run at the same instant raise that mark whatever they are. Opened 50 at a time, the
  figure was about 10 MiB higher than 10 at a time (1 at a time: about 2 MiB lower); but
  after 1,000 plain API reads 50 at a time, which alone raised it by 15 MiB, 1,000 streams
  opened 50 at a time added 36 MiB;
- a page while they are open: the median of 20 API reads of an edit, against the same 20
  with none open;
- hearing of a change: from the commit's return in the other process to the event read by
  the bench's client, for 60 changes to one edit each (10 streams hear each), and the last
  of all 1,000 to hear of a change to the edit they all follow.
"""

import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.support.live import ROOT, Gaitu, split_gaitu
from tests.support.streams import (
    Stream,
    allow_open_files,
    close_all,
    open_stream,
    open_streams,
    rss_kib,
    settled,
    sockets_and_files,
    threads,
    web_process,
)

STREAMS = 1000
EDITS = 100  # 10 streams follow each
CHANGES = 60  # to one edit each, in turn
CHANGES_FOR_ALL = 5  # to the edit every stream follows
PAGE_ROUNDS = 20
OPEN_AT_ONCE = 10

# A separate process that changes edits as the worker does, and says when each commit returned.
CHANGER = """
import sys, time
from django.contrib.auth import get_user_model
from editor.models import Edit

for line in sys.stdin:
    command, *words = line.split()
    if command == "make":
        owner = get_user_model().objects.get(username=words[0])
        edits = [Edit.objects.create(owner=owner, instruction=f"edit {n}", model="gpt-4o-image")
                 for n in range(int(words[1]))]
        print(" ".join(str(edit.pk) for edit in edits), flush=True)
    elif command == "move":
        Edit.objects.filter(pk=words[0]).update(progress=int(words[1]))
        print(repr(time.time()), flush=True)
"""


def run() -> list[tuple[str, str, str]]:
    allow_open_files(4 * STREAMS + 1024)
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-streams-") as folder,
        split_gaitu(
            Path(folder),
            with_worker=False,
            GAITU_MAX_CONNECTIONS_PER_ADDRESS=str(2 * STREAMS),
            GAITU_RATE_LIMIT="0",
        ) as gaitu,
        _Changer(gaitu) as changer,
    ):
        api = gaitu.api("streams")
        session_id = gaitu.session("streams").cookies["sessionid"]
        *edits, for_all = changer.make("streams", EDITS + 1)
        figures = asyncio.run(_measure(gaitu, api, session_id, edits, for_all, changer))
    return _rows(figures)


async def _measure(
    gaitu: Gaitu,
    api: httpx.Client,
    session_id: str,
    edits: list[str],
    for_all: str,
    changer: "_Changer",
) -> dict:
    web = web_process(gaitu)
    page = f"/api/v1/edits/{for_all}"
    # Warm up: what the first requests and streams import and set up is not a stream's cost.
    await close_all(await open_streams(gaitu, session_id, [edits[0], for_all], 3))
    _page_times(api, page, PAGE_ROUNDS)
    none_open = {
        "rss": _quiet_rss(web),
        "threads": settled(lambda: threads(web)),
        "files": sockets_and_files(web),
    }
    page_alone = _page_times(api, page, PAGE_ROUNDS)

    meanwhile = _PagesMeanwhile(api, page)
    meanwhile.start()
    began = time.monotonic()
    streams: list[Stream] = []
    for start in range(0, STREAMS, OPEN_AT_ONCE):
        streams += await asyncio.gather(
            *(
                open_stream(gaitu, session_id, [edits[n % EDITS], for_all])
                for n in range(start, min(start + OPEN_AT_ONCE, STREAMS))
            )
        )
    opening = time.monotonic() - began
    while_opening = meanwhile.stop()

    with_open = {
        "rss": _quiet_rss(web),
        "threads": settled(lambda: threads(web)),
        "files": sockets_and_files(web),
    }
    page_open = _page_times(api, page, PAGE_ROUNDS)

    heard: list[float] = []
    for n in range(CHANGES):
        which = (n * 7) % EDITS  # each change to another edit than the last
        heard += await _hear(changer, edits[which], n + 1, streams[which::EDITS])
        await asyncio.sleep(0.05)
    last_of_all = []
    for n in range(CHANGES_FOR_ALL):
        last_of_all.append(max(await _hear(changer, for_all, n + 1, streams)))
        await asyncio.sleep(0.2)
    await close_all(streams)
    return {
        "none_open": none_open,
        "with_open": with_open,
        "page_alone": page_alone,
        "page_open": page_open,
        "while_opening": while_opening,
        "opening": opening,
        "heard": heard,
        "last_of_all": last_of_all,
    }


async def _hear(changer: "_Changer", edit: str, progress: int, streams: list[Stream]) -> list:
    """Seconds from the change's commit to each stream's reading of its event."""

    async def arrival(stream: Stream) -> float:
        event = await stream.next_event()
        assert event == ("edit", edit), event
        return time.time()

    listening = [asyncio.ensure_future(arrival(stream)) for stream in streams]
    committed = await asyncio.to_thread(changer.move, edit, progress)
    return [arrived - committed for arrived in await asyncio.gather(*listening)]


def _quiet_rss(pid: int) -> float:
    """VmRSS in KiB once the last requests are over: the median of 10 readings over a second."""
    time.sleep(2)
    readings = []
    for _ in range(10):
        readings.append(rss_kib(pid))
        time.sleep(0.1)
    return statistics.median(readings)


def _page_times(api: httpx.Client, page: str, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        assert api.get(page).status_code == 200
        timings.append(time.perf_counter() - began)
    return timings


class _PagesMeanwhile(threading.Thread):
    """The same page, asked for again and again while the streams open."""

    def __init__(self, api: httpx.Client, page: str):
        super().__init__(daemon=True)
        self.api, self.page = api, page
        self.timings: list[float] = []
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self.timings += _page_times(self.api, self.page, 1)
            self._stopping.wait(0.05)

    def stop(self) -> list[float]:
        self._stopping.set()
        self.join()
        return self.timings


class _Changer:
    """The CHANGER process: `make` edits, `move` one and learn when its commit returned."""

    def __init__(self, gaitu: Gaitu):
        self.gaitu = gaitu

    def __enter__(self) -> "_Changer":
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", CHANGER],
            cwd=ROOT, env=self.gaitu.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def _say(self, line: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def make(self, username: str, count: int) -> list[str]:
        return self._say(f"make {username} {count}").split()

    def move(self, edit: str, progress: int) -> float:
        return float(self._say(f"move {edit} {progress}"))


def _rows(f: dict) -> list[tuple[str, str, str]]:
    added_mib = (f["with_open"]["rss"] - f["none_open"]["rss"]) / 1024
    alone, with_open = statistics.median(f["page_alone"]), statistics.median(f["page_open"])
    heard = sorted(f["heard"])
    p50, p95 = statistics.median(heard), statistics.quantiles(heard, n=20)[-1]
    sockets = f["with_open"]["files"][0] - f["none_open"]["files"][0]
    files = f["with_open"]["files"][1] - f["none_open"]["files"][1]
    worst_opening = max(f["while_opening"], default=0.0)
    return [
        (
            f"{STREAMS:,} open streams ({OPEN_AT_ONCE} opening at a time): web process VmRSS,"
            " open minus none",
            f"{added_mib:.0f} MiB ({f['none_open']['rss'] / 1024:.0f} MiB → "
            f"{f['with_open']['rss'] / 1024:.0f} MiB)",
            "<= 50 MiB",
        ),
        (
            f"{STREAMS:,} open streams: threads and open files of the web process, open - none",
            f"+{f['with_open']['threads'] - f['none_open']['threads']} threads "
            f"({f['none_open']['threads']} → {f['with_open']['threads']}), "
            f"+{sockets} sockets, +{files} other files",
            "report",
        ),
        (
            f"an API read while {STREAMS:,} are open vs none, median of {PAGE_ROUNDS}",
            f"{with_open / alone:.2f}x ({with_open * 1000:.1f} ms / {alone * 1000:.1f} ms)",
            "<= 1.5",
        ),
        (
            f"an API read while {STREAMS:,} open, {OPEN_AT_ONCE} at a time"
            f" ({f['opening']:.1f} s):"
            " median / worst",
            f"{statistics.median(f['while_opening']) * 1000:.0f} ms / "
            f"{worst_opening * 1000:.0f} ms ({len(f['while_opening'])} reads)",
            "report",
        ),
        (
            f"commit to event, {CHANGES} changes heard by 10 streams each"
            f" ({len(heard)} events): p50 / p95",
            f"{p50 * 1000:.0f} ms / {p95 * 1000:.0f} ms",
            "<= 100 ms p95",
        ),
        (
            f"commit to event, a change all {STREAMS:,} follow: the last to hear,"
            f" median of {CHANGES_FOR_ALL}",
            f"{statistics.median(f['last_of_all']) * 1000:.0f} ms",
            "report",
        ),
    ]
