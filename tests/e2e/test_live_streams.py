"""Open live-update streams cost the web process no thread and no database connection of
their own (issue #13): a real server, 200 streams from one browser-like session, the web
process's threads and open files read off /proc against the same counts with none open.

On PostgreSQL (the scale-out profile) the web process keeps a pool of database connections,
which grows with the requests that run at once (each stream's start is one) and is kept: those
are counted apart, and must stay within the pool's size, with the hub's feed beside it."""

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.factories import image_bytes
from tests.support.live import split_gaitu
from tests.support.streams import (
    allow_open_files,
    close_all,
    open_files,
    open_streams,
    settled,
    sockets_and_files,
    threads,
    web_process,
)
from webapp.settings.scale import POOL_SPARE

STREAMS = 200
WORKER_THREADS = 8  # as tests/support/live.py sets it; the pool holds these and POOL_SPARE


def database_connections(pid: int, database_url: str | None) -> int:
    """The process's open connections to the PostgreSQL server (none with SQLite)."""
    if not database_url:
        return 0
    port = urlsplit(database_url).port or 5432
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd) in inodes
        except FileNotFoundError:
            continue  # closed while listed
    return count


def test_open_streams_hold_no_thread_and_no_connection_and_all_hear_of_a_change(tmp_path):
    allow_open_files(4 * STREAMS + 1024)
    with split_gaitu(
        tmp_path,
        with_worker=False,
        GAITU_MAX_CONNECTIONS_PER_ADDRESS="5000",
        GAITU_WEB_PROCESSES="1",  # what one process holds (the scale-out default is more)
    ) as gaitu:
        api = gaitu.api("watcher")
        answer = api.post(
            "/api/v1/edits",
            data={"instruction": "blur"},
            files={"image": ("p.jpg", image_bytes(), "image/jpeg")},
        )
        assert answer.status_code == 202, answer.text
        edit = answer.json()["id"]  # no worker: it stays queued until canceled
        session_id = gaitu.session("watcher").cookies["sessionid"]
        web = web_process(gaitu)
        database_url = gaitu.env.get("DATABASE_URL")

        def measure() -> dict[str, int]:
            """Threads, sockets but the database's, other files, database connections."""
            database = database_connections(web, database_url)
            sockets, files = sockets_and_files(web)
            return {
                "threads": settled(lambda: threads(web)),
                "files": settled(lambda: open_files(web) - database_connections(web, database_url)),
                "sockets": sockets - database,
                "other files": files,
                "database": database,
            }

        async def scenario():
            # The first streams import and set up what streams need.
            await close_all(await open_streams(gaitu, session_id, [edit], 3))
            none_open = measure()
            streams = await open_streams(gaitu, session_id, [edit], STREAMS, at_once=10)
            with_open = measure()
            await asyncio.to_thread(api.post, f"/api/v1/edits/{edit}/cancel")
            heard = await asyncio.gather(*(stream.next_event() for stream in streams))
            ended = await asyncio.gather(*(stream.next_event() for stream in streams))
            await close_all(streams)
            return none_open, with_open, measure(), heard, ended

        none_open, with_open, closed, heard, ended = asyncio.run(scenario())

    assert heard == [("edit", edit)] * STREAMS
    assert ended == [("done", "")] * STREAMS
    # One thread more while any are open: the hub's, reading for them all.
    assert with_open["threads"] <= none_open["threads"] + 2, (none_open, with_open)
    # A socket each, and a few files more: the hub's feed (SQLite's) and database file.
    assert with_open["sockets"] <= none_open["sockets"] + STREAMS + 5, (none_open, with_open)
    assert with_open["other files"] <= none_open["other files"] + 20, (none_open, with_open)
    # No stream holds a database connection: the pool's (PostgreSQL), and the feed's.
    assert with_open["database"] <= WORKER_THREADS + POOL_SPARE + 1, with_open
    # Once they have closed, the hub has stopped: its thread, connection and feed are gone.
    assert closed["threads"] <= none_open["threads"], (none_open, closed)
    assert closed["files"] <= none_open["files"] + 10, (none_open, closed)
