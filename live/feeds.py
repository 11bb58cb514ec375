"""Change feeds: what tells the hub (live/hub.py) that the database may have changed.

A feed has one listener, the hub of its event loop, which asks `changed(timeout)` between
its reads: it returns once the database may have changed since it last returned, or after
`timeout`. SQLite's commit counter is the feed today; a PostgreSQL LISTEN/NOTIFY or Redis
feed fits the same two methods. Which streams a change concerns is the hub's business.
"""

import asyncio
import sqlite3
from pathlib import Path
from typing import Protocol

from django.db import connection

WATCH_EVERY = 0.01  # seconds between reads of SQLite's commit count
LOOK_EVERY = 0.05  # seconds between looks when the database cannot tell of changes


class ChangeFeed(Protocol):
    async def changed(self, timeout: float) -> None:
        """Return once the database may have changed since the last return, or after timeout."""
        ...

    def close(self) -> None: ...


class SqliteCommitFeed:
    """SQLite counts the commits of other connections (PRAGMA data_version): reading that
    count every 10 ms costs microseconds, in the event loop, on a read-only connection of the
    feed's own. A commit made while the hub reads counts: the count is kept from one return
    to the next, so the next wait ends at once.
    """

    def __init__(self, database: Path):
        self._reader = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
        self._version = self._read_version()

    async def changed(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (version := self._read_version()) == self._version and loop.time() < deadline:
            await asyncio.sleep(WATCH_EVERY)
        self._version = version

    def close(self) -> None:
        self._reader.close()

    def _read_version(self) -> int:
        version: int = self._reader.execute("PRAGMA data_version").fetchone()[0]
        return version


class PollingFeed:
    """For a database that cannot tell of changes (yet): the hub looks every 50 ms."""

    async def changed(self, timeout: float) -> None:
        await asyncio.sleep(min(timeout, LOOK_EVERY))

    def close(self) -> None:
        pass


def feed_for_the_database() -> ChangeFeed:
    """The feed that suits the configured database."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and Path(name).is_file():
        return SqliteCommitFeed(Path(name).resolve())
    return PollingFeed()
