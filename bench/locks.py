"""SQLite's write lock under contention: Gaitu's waits (webapp/sqlite/busy.py) against SQLite's
own busy handler, same run, same load.

Three processes write to one WAL database as the worker's threads do (short IMMEDIATE
transactions, one every few milliseconds), while this process times its own small writes, as
a web request's commit. Figures: p95 and worst wait, retrying in 1 ms steps / SQLite's handler.
"""

import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from webapp.sqlite.busy import RetryingConnection

WRITERS = 3
SECONDS = 4.0


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="gaitu-locks-") as folder:
        database = Path(folder) / "locks.sqlite3"
        figures = {style: [] for style in ("sqlite", "gaitu")}
        for _ in range(2):  # interleaved, so that noise falls on both alike
            for style in figures:
                figures[style] += _waits(database, style)
    rows = []
    for name, pick in (("p95", lambda w: statistics.quantiles(w, n=20)[-1]), ("worst", max)):
        mine, theirs = pick(figures["gaitu"]), pick(figures["sqlite"])
        rows.append(
            (
                f"a write while {WRITERS} processes write: {name} wait, Gaitu / SQLite's handler",
                f"{mine / theirs:.2f}x ({mine * 1000:.1f} ms / {theirs * 1000:.1f} ms)",
                "report",
            )
        )
    return rows


def _connect(database: Path, style: str) -> sqlite3.Connection:
    if style == "sqlite":
        db = sqlite3.connect(database, timeout=30, isolation_level=None)
    else:
        db = sqlite3.connect(database, timeout=0, isolation_level=None, factory=RetryingConnection)
    db.execute("PRAGMA synchronous=NORMAL")  # as Gaitu's database
    return db


def _waits(database: Path, style: str) -> list[float]:
    database.unlink(missing_ok=True)
    with _connect(database, "sqlite") as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, n INTEGER)")
        setup.execute("INSERT INTO job VALUES (1, 0)")
        setup.execute("CREATE TABLE request (n INTEGER)")
    stop_at = time.time() + SECONDS
    writers = [
        multiprocessing.Process(target=_write_like_a_worker, args=(database, style, stop_at))
        for _ in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    db, waits = _connect(database, style), []
    time.sleep(0.3)
    while time.time() < stop_at - 0.3:
        began = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO request VALUES (1)")
        db.execute("COMMIT")
        waits.append(time.perf_counter() - began)
        time.sleep(0.005)
    db.close()
    for writer in writers:
        writer.join()
    return waits


def _write_like_a_worker(database: Path, style: str, stop_at: float) -> None:
    db = _connect(database, style)
    while time.time() < stop_at:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE job SET n = n + 1 WHERE id = 1")
        time.sleep(0.002)  # the transaction's own work
        db.execute("COMMIT")
        time.sleep(0.003)
    db.close()
