"""A gallery of 100,000 edits (10 people, one with 50,000) against the same person with 100.

Two installations of the embedded profile (SQLite, as `make run` configures it), each a web
process of its own (split_gaitu, no worker), side by side: in one, "big" has 50,000 edits and
nine others 50,000 between them; in the other, "big" has 100 and nobody else has any. Both are
filled the same way, in bulk, with the same four instructions in turn (one in four holds
"蓝天白云"), so that every measured page shows a full 24 tiles in both.

Measured for "big" in each, ROUNDS times, the two installations in turn (each first every
other round) so that the machine's noise falls on both alike; p50 of each, and the ratio
big / small (goal <= 1.2 each):
- the first gallery page (the whole page, as a browser first asks for it);
- a scroll step deep in: the tiles after the 20,000th (after the 72nd of 100), as infinite
  scroll asks for them (htmx, the keyset cursor);
- a search for "蓝天白云" (htmx, as the search box asks): a common word, so after its look into
  the FTS5 index (25,000 matches in the big one, 25 in the small) the search reads the
  person's edits newest first in the big one and takes the matches by id in the small one
  (editor/search.py).

Then the same on the scale-out profile (PostgreSQL, Redis, S3 on throwaway loopback servers,
as bench/scale.py starts them), where PostgreSQL's planner chooses between the pg_trgm index
and the owner's with the statistics ANALYZE gathered after the fill.
"""

import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.pages import GZIP, PICTURES, ratio_figure
from tests.support.live import split_gaitu
from tests.support.servers import fresh_deployment, running_servers

ROUNDS = 20
BIG = 50_000
OTHERS = 9
EVERYONE = 100_000
SMALL = 100
DEEP = {"big": 20_000, "small": 72}  # the tiles a scroll step comes after
SEARCH = "蓝天白云"
HTMX = {"HX-Request": "true"}
# Unset means embedded, whatever the environment the bench runs in says (blank = unset).
EMBEDDED = {"DATABASE_URL": "", "GAITU_QUEUE_URL": "", "GAITU_S3_BUCKET": ""}

# Fills one installation: `big` edits of "big"'s and `others` spread over nine more people,
# one created a second apart (the newest now), each with a source and a result; prints the
# cursor that comes after "big"'s `deep`-th newest edit.
FILL = (
    PICTURES
    + """
import os
from datetime import timedelta
from django.utils import timezone

INSTRUCTIONS = [
    "把天空变成蓝天白云，保留人物 {n}",
    "Remove the background and keep the subject {n}",
    "Make it look like a watercolour painting {n}",
    "Add a warm sunset light from the left {n}",
]
big, others, deep = (int(os.environ[name]) for name in ("BIG", "OTHERS", "DEEP"))
people = [get_user_model().objects.get(username="big")]
for n in range(9 if others else 0):
    people.append(get_user_model().objects.create_user(f"other{n}", password="x" * 20))
counts = [big] + [others // 9 + (n < others % 9) for n in range(len(people) - 1)]
now = timezone.now()
for owner, count in zip(people, counts):
    for start in range(0, count, 5000):
        edits = Edit.objects.bulk_create(
            Edit(owner=owner, instruction=INSTRUCTIONS[n % 4].format(n=n), model="gpt-4o-image",
                 status="succeeded", stage="done", progress=100,
                 created_at=now - timedelta(seconds=count - n))
            for n in range(start, min(count, start + 5000))
        )
        SourceImage.objects.bulk_create(SourceImage(edit=e, **image) for e in edits)
        ResultImage.objects.bulk_create(ResultImage(edit=e, **image) for e in edits)
from django.db import connection
if connection.vendor == "postgresql":  # as autovacuum would soon after such an insert
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
after = Edit.objects.filter(owner=people[0]).order_by("-created_at", "-id")[deep - 1]
print(f"{after.created_at.isoformat()}_{after.pk}")
"""
)
KINDS = ("first page", "scroll step", "search")


def run() -> list[tuple[str, str, str]]:
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-gallery-")))
        embedded = _p50(stack, folder / "embedded", lambda: EMBEDDED)
        # As bench/scale.py starts them: throwaway servers on loopback, a database, Redis
        # database and bucket of each installation's own.
        servers_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gaitu-servers-"))
        servers = stack.enter_context(running_servers(Path(servers_folder)))
        environment = servers.environment()
        del environment["GAITU_TEST_PROFILE"]  # the test suite's mark: this is no test run
        scale_out = _p50(
            stack, folder / "scale-out", lambda: {**environment, **fresh_deployment(environment)}
        )
    rows = []
    for profile, p50 in (("", embedded), ("scale-out (PostgreSQL): ", scale_out)):
        rows += [
            (
                f"{profile}first gallery page (24 tiles), 50,000 edits of 100,000 vs 100, p50",
                ratio_figure(p50["big"]["first page"], p50["small"]["first page"]),
                "<= 1.2",
            ),
            (
                f"{profile}scroll step after the 20,000th tile vs after the 72nd of 100, p50",
                ratio_figure(p50["big"]["scroll step"], p50["small"]["scroll step"]),
                "<= 1.2",
            ),
            (
                f"{profile}search for “{SEARCH}” (1 in 4 match), 50,000 edits of 100,000 vs "
                "100, p50",
                ratio_figure(p50["big"]["search"], p50["small"]["search"]),
                "<= 1.2",
            ),
        ]
    return rows


def _p50(
    stack: ExitStack, folder: Path, deployment: Callable[[], dict[str, str]]
) -> dict[str, dict[str, float]]:
    """Two installations (a deployment each), filled and measured: p50 by size and kind."""
    sizes = {"big": (BIG, EVERYONE - BIG), "small": (SMALL, 0)}
    paths = {}
    browsers = {}
    for name, (big, others) in sizes.items():
        gaitu = stack.enter_context(split_gaitu(folder / name, with_worker=False, **deployment()))
        gaitu.api("big")  # the person, with an API token unused here
        began = time.perf_counter()
        cursor = gaitu.manage(
            "shell", "--no-imports", "-c", FILL,
            BIG=str(big), OTHERS=str(others), DEEP=str(DEEP[name]),
        ).strip()  # fmt: skip
        print(f"  {folder.name}, {name}: filled in {time.perf_counter() - began:.0f} s", flush=True)
        paths[name] = {
            "first page": ("/gallery/", {}),
            "scroll step": (f"/gallery/?after={quote(cursor)}", HTMX),
            "search": (f"/gallery/?q={quote(SEARCH)}", HTMX),
        }
        browsers[name] = gaitu.session("big", headers=GZIP)
    timings: dict[str, dict[str, list[float]]] = {
        name: {kind: [] for kind in KINDS} for name in sizes
    }
    for name in sizes:  # the first requests of a process are slower; each page once
        for kind in KINDS:
            _tiles(browsers[name], *paths[name][kind])
    for round_ in range(ROUNDS):
        order = list(sizes) if round_ % 2 else list(sizes)[::-1]  # neither always first
        for kind in KINDS:
            for name in order:
                timings[name][kind].append(_timed(browsers[name], *paths[name][kind]))
    return {
        name: {kind: statistics.median(times) for kind, times in timings[name].items()}
        for name in sizes
    }


def _tiles(browser: httpx.Client, path: str, headers: dict[str, str]) -> int:
    """Ask for the page once, and check that it shows a full page of tiles."""
    page = browser.get(path, headers=headers)
    assert page.status_code == 200, page.text[:300]
    tiles = page.text.count('id="tile-')
    assert tiles == 24, f"{path}: {tiles} tiles"
    return tiles


def _timed(browser: httpx.Client, path: str, headers: dict[str, str]) -> float:
    began = time.perf_counter()
    answer = browser.get(path, headers=headers)
    elapsed = time.perf_counter() - began
    assert answer.status_code == 200
    return elapsed
