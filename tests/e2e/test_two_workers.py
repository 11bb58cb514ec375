"""One queue, two worker processes and a SIGKILL of one of them mid-burst: every edit ends
exactly once (issue #14).

A web server and two `run_worker` processes on one deployment: the embedded profile's SQLite
queue, which both workers of this host take from, or the scale-out profile's Redis queue and
PostgreSQL. A burst of edits through the API; once both workers run some, one is killed with
its process group. The other takes up what the dead one was running (worker/recovery.py) and
every edit succeeds, each with one set of results, run once more only if it was cut off.
The edits' rows are read straight from the database, as the test sees them: no timing.
"""

import os
import signal
import socket
import sqlite3
import uuid

import psycopg

from tests.support.factories import image_bytes
from tests.support.live import Gaitu, stop, wait_until

EDITS = 16
THREADS = 4  # per worker: neither can take the whole burst at once
PHOTO = ("p.jpg", image_bytes((96, 64)), "image/jpeg")


def query(gaitu: Gaitu, sql: str) -> list[tuple]:
    """Rows of the deployment's own database (SQLite in its data folder, or PostgreSQL)."""
    if url := gaitu.env.get("DATABASE_URL"):
        with psycopg.connect(url) as database:
            return database.execute(sql).fetchall()  # type: ignore[arg-type]
    database = sqlite3.connect(f"{(gaitu.data_dir / 'gaitu.sqlite3').as_uri()}?mode=ro", uri=True)
    try:
        return database.execute(sql).fetchall()
    finally:
        database.close()


def edits(gaitu: Gaitu) -> dict[uuid.UUID, dict]:
    rows = query(gaitu, "SELECT id, status, worker, attempts, recoveries FROM editor_edit")
    return {
        uuid.UUID(str(pk)): {
            "status": status, "worker": worker, "attempts": attempts, "recoveries": recoveries
        }
        for pk, status, worker, attempts, recoveries in rows
    }  # fmt: skip


def results_per_edit(gaitu: Gaitu) -> dict[uuid.UUID, int]:
    rows = query(gaitu, "SELECT edit_id, count(*) FROM editor_resultimage GROUP BY edit_id")
    return {uuid.UUID(str(pk)): count for pk, count in rows}


def ended(gaitu: Gaitu) -> dict[uuid.UUID, dict] | None:
    """Every edit, once none is queued or running any more."""
    now = edits(gaitu)
    return None if any(edit["status"] in ("queued", "running") for edit in now.values()) else now


def test_a_worker_killed_mid_burst_leaves_every_edit_done_exactly_once(tmp_path):
    gaitu = Gaitu(
        tmp_path,
        GAITU_DEMO_LATENCY="1.5",
        GAITU_WORKER_THREADS=str(THREADS),
        GAITU_MAX_ACTIVE_PER_USER=str(EDITS),  # the burst is one person's: all may run at once
        GAITU_RATE_LIMIT="0",
    )
    web = gaitu.start("serve", "--no-worker")
    first, second = gaitu.start("run_worker"), gaitu.start("run_worker")
    killed, kept = (f"{socket.gethostname()}:{proc.pid}" for proc in (first, second))
    try:
        gaitu.wait_until_up(web)
        wait_until(
            lambda: (
                {name for (name,) in query(gaitu, "SELECT name FROM worker_workerprocess")}
                == {killed, kept}
            ),
            what="both workers beat",
        )
        client = gaitu.api()
        for n in range(EDITS):
            answer = client.post(
                "/api/v1/edits", data={"instruction": f"blur {n}"}, files={"image": PHOTO}
            )
            assert answer.status_code == 202, answer.text

        def both_running() -> bool:
            workers = {
                edit["worker"] for edit in edits(gaitu).values() if edit["status"] == "running"
            }
            return {killed, kept} <= workers

        wait_until(both_running, what="both workers run edits of the burst", every=0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        # What it was running when it died (or, had the sweep been quick, what it put back).
        cut_off = {
            pk
            for pk, edit in edits(gaitu).items()
            if edit["worker"] == killed and edit["status"] in ("running", "queued")
        }
        assert cut_off

        final = wait_until(lambda: ended(gaitu), timeout=180, what="every edit has ended")
        results = results_per_edit(gaitu)
    finally:
        stop(second)
        stop(web, signal.SIGTERM)
        gaitu.kill_leftovers()

    assert len(final) == EDITS
    assert {edit["status"] for edit in final.values()} == {"succeeded"}
    assert results == dict.fromkeys(final, 1)  # one result each: the demo makes one
    for pk, edit in final.items():
        if pk in cut_off:  # run again once, by the worker that is left
            assert (edit["recoveries"], edit["attempts"], edit["worker"]) == (1, 2, kept), edit
        else:
            assert (edit["recoveries"], edit["attempts"]) == (0, 1), edit
    # The worker that is left ran edits of its own too, besides the ones it took up.
    assert any(edit["worker"] == kept for pk, edit in final.items() if pk not in cut_off)
    for pk in cut_off:
        assert f"edit {pk}: its worker stopped; queued again" in gaitu.output()
