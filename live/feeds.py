"""Change feeds: when the database may have changed, so that open streams look again.

A feed hands out tickets: next_change() is an event that the next change sets, after() waits
for it (or for a timeout). SQLite's commit counter is the feed today; a PostgreSQL
LISTEN/NOTIFY or Redis feed fits the same two methods.
"""

import asyncio
import contextlib
import sqlite3
import weakref
from pathlib import Path
from typing import Protocol

from django.db import connection

WATCH_EVERY = 0.01  # seconds between reads of SQLite's commit count
LOOK_EVERY = 0.05  # seconds between looks when the database cannot tell of changes


class ChangeFeed(Protocol):
    streams: int  # how many streams listen; a feed may stop watching at none

    def next_change(self) -> asyncio.Event: ...

    async def after(self, ticket: asyncio.Event, timeout: float) -> None: ...


class SqliteCommitFeed:
    """SQLite counts the commits of other connections (PRAGMA data_version): one task per
    event loop reads that count every 10 ms, which costs microseconds, and wakes the streams.
    With no database file to read (another database), streams look every 50 ms instead.
    """

    def __init__(self, database: Path | None):
        self.database = database
        self.streams = 0
        self._next = asyncio.Event()
        self._watching: asyncio.Task[None] | None = None

    def next_change(self) -> asyncio.Event:
        if self.database and (self._watching is None or self._watching.done()):
            self._watching = asyncio.create_task(self._watch(self.database))
        return self._next

    async def after(self, ticket: asyncio.Event, timeout: float) -> None:
        if self.database is None:
            timeout = min(timeout, LOOK_EVERY)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticket.wait(), timeout)

    async def _watch(self, database: Path) -> None:
        reader = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
        try:
            version = reader.execute("PRAGMA data_version").fetchone()[0]
            while self.streams:
                await asyncio.sleep(WATCH_EVERY)
                now = reader.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._next.set()
                    self._next = asyncio.Event()
        finally:
            reader.close()


_changes_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChangeFeed]" = (
    weakref.WeakKeyDictionary()
)


def change_feed() -> ChangeFeed:
    """The feed of the running event loop, made on first use."""
    loop = asyncio.get_running_loop()
    if loop not in _changes_by_loop:
        name = str(connection.settings_dict["NAME"])
        on_disk = connection.vendor == "sqlite" and Path(name).is_file()
        _changes_by_loop[loop] = SqliteCommitFeed(Path(name).resolve() if on_disk else None)
    return _changes_by_loop[loop]
