"""Many people at once: 64 clients reading the studio, the gallery, an edit's page, a
thumbnail and the API, against one client alone, same server, same run; on the embedded
profile at `make run`'s defaults and on the scale-out one (PostgreSQL, Redis, S3).

The goal (issue #18): throughput >= 0.7 x (cores x the single-client rate), p95 <= 3 x a
single request's p50. Both halves cannot be asked of one closed loop. 64 clients that each
send their next request the moment the last is answered keep 64 requests in the server at all
times, so by Little's law each waits 64 / throughput seconds: at the goal's throughput, about
64 / (0.7 x cores) = 46 times one request's time on 2 cores, on any server. People do not do
that: they read a page before they open the next. So the load is measured twice:

- Paced (the p95 and the throughput goals together): 64 people, each on a connection of its
  own, who wait a think time between their reads. The think times are random (uniformly
  0.5-1.5 x their mean), and their mean is set so that the 64 together offer the goal's rate,
  0.7 x cores x the single-client rate. Each request's latency is counted from when the person
  meant to send it, not from when the previous answer let them: a server that falls behind
  shows in the p95 (no coordinated omission), and in the throughput it achieves.
- Closed loop (saturation): the same 64 with no think time, for the most the server answers;
  the same throughput goal, and its p95 reported for what it is (Little's law's, mostly).

The single-client rate is one connection doing the same mix back to back, alone: requests it
answers per second, and the p50 of their latencies. The mix, in turn per person: the studio
page, the gallery's first page, one of their edits' page, one of its thumbnails, the API's
list of their edits and one edit's record (pages with a logged-in session's cookie, the API
with a token). Each of PEOPLE people has EDITS_EACH edits (the gallery of a real person, and
others' rows in the same tables); the 64 clients are CLIENTS_EACH tabs of each person.

The bench's own client must not take the cores it measures: it runs in a process of its own,
one asyncio loop on plain sockets (HTTP/1.1, keep-alive), and its CPU time is reported.
"""

import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ != "__main__" or str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PEOPLE = 16
CLIENTS_EACH = 4
CLIENTS = PEOPLE * CLIENTS_EACH  # 64
EDITS_EACH = 200
GOAL_SHARE = 0.7  # of cores x the single-client rate
SINGLE_SECONDS = 10
PACED_SECONDS = 30
CLOSED_SECONDS = 15
WARM_SECONDS = 3
# Blank means the default (webapp/settings/env.py): what `make run` gives, not what the test
# helpers pin (one web process, 8 worker threads).
MAKE_RUN_DEFAULTS = {"GAITU_WEB_PROCESSES": "", "GAITU_WORKER_THREADS": ""}
EMBEDDED = {"DATABASE_URL": "", "GAITU_QUEUE_URL": "", "GAITU_S3_BUCKET": ""}

FILL = """
import io, os
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from accounts.models import ApiToken
from editor.models import Edit, ResultImage, SourceImage
from imaging import make_thumbnail

people, each = int(os.environ["BENCH_PEOPLE"]), int(os.environ["BENCH_EDITS_EACH"])
password = os.environ["BENCH_PASSWORD"]
photo = Image.effect_noise((1200, 800), 30).convert("RGB")
photo = Image.blend(photo, Image.linear_gradient("L").resize((1200, 800)).convert("RGB"), 0.7)
raw = io.BytesIO()
photo.save(raw, "JPEG", quality=88)
full = default_storage.save("bench/full.jpg", ContentFile(raw.getvalue()))
thumb = default_storage.save("bench/thumb.webp", ContentFile(make_thumbnail(raw)))
image = dict(file=full, thumbnail=thumb, width=1200, height=800, content_type="image/jpeg")
for n in range(people):
    owner = get_user_model().objects.create_user(f"many{n}", f"many{n}@example.com", password)
    edits = Edit.objects.bulk_create(
        Edit(owner=owner, instruction=f"edit number {k} of person {n}", model="gpt-4o-image",
             status="succeeded", stage="done", progress=100)
        for k in range(each)
    )
    SourceImage.objects.bulk_create(SourceImage(edit=e, **image) for e in edits)
    ResultImage.objects.bulk_create(ResultImage(edit=e, **image) for e in edits)
    _, token = ApiToken.issue(owner, name="bench")
    print(owner.username, token)
"""


def run() -> list[tuple[str, str, str]]:
    from tests.support.live import running_gaitu
    from tests.support.servers import running_servers

    figures = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-many-")))
        with running_gaitu(folder / "embedded", **EMBEDDED, **MAKE_RUN_DEFAULTS) as gaitu:
            figures["embedded"] = measure(gaitu)
        servers_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-servers-"))
        servers = stack.enter_context(running_servers(Path(servers_folder)))
        scale_out = servers.environment()
        del scale_out["GAITU_TEST_PROFILE"]  # the test suite's mark: this is no test run
        with running_gaitu(folder / "scale-out", **scale_out, **MAKE_RUN_DEFAULTS) as gaitu:
            figures["scale-out"] = measure(gaitu)
    return [row for name, found in figures.items() for row in _rows(name, found)]


def measure(gaitu) -> dict:
    """The people and their pictures, then the three loads, each in the client process."""
    from tests.support.live import PASSWORD

    seeded = gaitu.manage(
        "shell", "--no-imports", "-c", FILL,
        BENCH_PEOPLE=str(PEOPLE), BENCH_EDITS_EACH=str(EDITS_EACH), BENCH_PASSWORD=PASSWORD,
    )  # fmt: skip
    people = [_person(gaitu, *line.split()) for line in seeded.splitlines() if line.strip()]
    processes = _web_processes(gaitu)
    plan = {"port": gaitu.port, "people": people}
    _client({**plan, "load": "closed", "clients": CLIENTS, "seconds": WARM_SECONDS})
    alone = {**plan, "load": "closed", "clients": 1, "seconds": SINGLE_SECONDS}
    before = _client(alone)
    goal_rate = GOAL_SHARE * (os.cpu_count() or 1) * before["rate"]
    paced = _client({**plan, "load": "paced", "rate": goal_rate, "seconds": PACED_SECONDS})
    closed = _client({**plan, "load": "closed", "clients": CLIENTS, "seconds": CLOSED_SECONDS})
    # Alone again, after: the machine's other work changes over a minute, and the baseline is
    # the two measures' mean, so that it falls on the loads between them alike.
    after = _client(alone)
    single = {
        **before,
        "rate": (before["rate"] + after["rate"]) / 2,
        "p50": (before["p50"] + after["p50"]) / 2,
        "requests": before["requests"] + after["requests"],
        "failed": before["failed"] + after["failed"],
    }
    return {"single": single, "paced": paced, "closed": closed, "processes": processes}


def _person(gaitu, username: str, token: str) -> dict:
    browser = gaitu.session(username)
    gallery = browser.get("/gallery/").text
    edits = sorted(set(re.findall(r'href="/edits/([0-9a-f-]{36})/"', gallery)))
    thumbnails = sorted(set(re.findall(r'<img src="(/media/[^"]+)"', gallery)))
    assert edits, gallery[:300]
    assert thumbnails, gallery[:300]
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return {"cookie": cookie, "token": token, "edits": edits, "thumbnails": thumbnails}


def _web_processes(gaitu) -> int:
    from bench.scale import _web_processes as counted

    return counted(gaitu)


def _client(plan: dict) -> dict:
    """One load, run by this module as a process of its own (see the docstring)."""
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(plan)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(done.stdout)


def _rows(name: str, found: dict) -> list[tuple[str, str, str]]:
    cores = os.cpu_count() or 1
    single, paced, closed = found["single"], found["paced"], found["closed"]
    ideal = cores * single["rate"]
    where = f"{name} ({found['processes']} web processes, {cores} cores)"

    def share(load: dict) -> str:
        return f"{load['rate'] / ideal:.2f}x ({load['rate']:.0f} req/s / {ideal:.0f} req/s)"

    def p95(load: dict) -> str:
        return (
            f"{load['p95'] / single['p50']:.1f}x "
            f"({load['p95'] * 1000:.0f} ms / {single['p50'] * 1000:.0f} ms)"
        )

    failed = sum(load["failed"] for load in (single, paced, closed))
    total = sum(load["requests"] for load in (single, paced, closed))
    return [
        (
            f"{where}: {CLIENTS} people pacing reads to offer {GOAL_SHARE} x cores x single, "
            "throughput / (cores x single-client rate)",
            share(paced),
            f">= {GOAL_SHARE}",
        ),
        (f"{where}: the same paced load, p95 / single request's p50", p95(paced), "<= 3"),
        (
            f"{where}: {CLIENTS} clients without pause (saturation), "
            "throughput / (cores x single-client rate)",
            share(closed),
            f">= {GOAL_SHARE}",
        ),
        (f"{where}: the same, p95 / single p50 (Little's law's)", p95(closed), "report"),
        (
            f"{where}: p50 alone by request "
            + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in single["p50_by_kind"].items()),
            f"paced p95 {paced['p95'] * 1000:.0f} ms, client CPU "
            f"{max(load['client_cpu'] for load in (paced, closed)):.0%} of a core",
            "report",
        ),
        (f"{where}: requests answered other than 200", f"{failed} of {total}", "0"),
    ]


# --- The client process ----------------------------------------------------------------------

KINDS = ("studio", "gallery", "detail", "thumbnail", "api list", "api read")


def _request(person: dict, kind: str, n: int) -> bytes:
    edit = person["edits"][n % len(person["edits"])]
    path = {
        "studio": "/",
        "gallery": "/gallery/",
        "detail": f"/edits/{edit}/",
        "thumbnail": person["thumbnails"][n % len(person["thumbnails"])],
        "api list": "/api/v1/edits",
        "api read": f"/api/v1/edits/{edit}",
    }[kind]
    credentials = (
        f"Authorization: Bearer {person['token']}"
        if kind.startswith("api")
        else f"Cookie: {person['cookie']}"
    )
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{credentials}\r\n\r\n".encode()


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time, its answer read whole."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, request: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        try:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            status = int(head.split(" ", 2)[1])
            if match := re.search(r"\r\ncontent-length: *(\d+)", head):
                await reader.readexactly(int(match.group(1)))
            elif "transfer-encoding: chunked" in head:
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            if "\r\nconnection: close" in head:
                self.close()
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            return 0

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _closed(plan: dict, results: list) -> None:
    stop_at = time.monotonic() + plan["seconds"]

    async def client(n: int) -> None:
        person = plan["people"][n % len(plan["people"])]
        connection, k = Connection(plan["port"]), n
        while time.monotonic() < stop_at:
            kind = KINDS[k % len(KINDS)]
            began = time.monotonic()
            status = await connection.get(_request(person, kind, k // len(KINDS)))
            results.append((kind, status, began, time.monotonic() - began))
            k += 1
        connection.close()

    await asyncio.gather(*(client(n) for n in range(plan["clients"])))


async def _paced(plan: dict, results: list) -> None:
    """CLIENTS people, each offering plan["rate"] / CLIENTS requests a second (see above)."""
    think = CLIENTS / plan["rate"]  # mean seconds between one person's requests
    start = time.monotonic() + 0.5
    stop_at = start + plan["seconds"]

    async def person_reads(n: int) -> None:
        person = plan["people"][n % len(plan["people"])]
        connection, k = Connection(plan["port"]), n
        meant = start + random.uniform(0, think)
        while meant < stop_at:
            await asyncio.sleep(max(0.0, meant - time.monotonic()))
            kind = KINDS[k % len(KINDS)]
            status = await connection.get(_request(person, kind, k // len(KINDS)))
            # From when the person meant to ask: waiting behind a late answer counts.
            results.append((kind, status, meant, time.monotonic() - meant))
            k += 1
            meant += think * random.uniform(0.5, 1.5)
        connection.close()

    await asyncio.gather(*(person_reads(n) for n in range(CLIENTS)))


def _client_main(plan: dict) -> dict:
    results: list[tuple[str, int, float, float]] = []
    began, cpu_before = time.monotonic(), _cpu()
    asyncio.run((_paced if plan["load"] == "paced" else _closed)(plan, results))
    wall, cpu = time.monotonic() - began, _cpu() - cpu_before
    answered = [r for r in results if r[1] == 200]
    latencies = [seconds for *_, seconds in answered]
    first = min(at for _, _, at, _ in results)
    last = max(at + seconds for _, _, at, seconds in results)

    def median_of(kind: str) -> float:
        return statistics.median([s for k, _, _, s in answered if k == kind] or [0.0]) * 1000

    return {
        "rate": len(answered) / (last - first),
        "requests": len(results),
        "failed": len(results) - len(answered),
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=20)[-1],
        "p50_by_kind": {kind: median_of(kind) for kind in KINDS},
        "client_cpu": cpu / wall,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    print(json.dumps(_client_main(json.loads(sys.argv[1]))))
