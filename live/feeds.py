"""Change feeds: what tells the hub (live/hub.py) that the database may have changed.

A feed has one listener, the hub of its event loop, which asks `changed(timeout)` between
its reads: it returns once the database may have changed since it last returned, or after
`timeout`. On PostgreSQL the database says so itself (LISTEN/NOTIFY, whoever wrote: any web
process, worker or machine); on SQLite the feed reads its commit counter. Which streams a
change concerns is the hub's business.
"""

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

WATCH_EVERY = 0.01  # seconds between reads of SQLite's commit count
LOOK_EVERY = 0.05  # seconds between looks when the database cannot tell of changes
# The channel on which PostgreSQL tells of every write to an edit or its share: the trigger
# of editor/migrations/0008_edit_change_notifications.py sends on it.
EDITS_CHANNEL = "gaitu_edits"
LISTEN_AGAIN_AFTER = 1.0  # seconds between tries to listen again once the connection is lost


class ChangeFeed(Protocol):
    async def changed(self, timeout: float) -> None:
        """Return once the database may have changed since the last return, or after timeout."""
        ...

    def close(self) -> None: ...


class PostgresNotifyFeed:
    """PostgreSQL tells of each write to an edit itself: a trigger sends a notification on
    EDITS_CHANNEL when the write commits, and this feed LISTENs for it on a connection of its
    own (not one of the pool's: a listening connection is never given back), in the event loop.

    A task of the feed's receives the notifications and remembers that one came, so that one
    that arrives while the hub reads ends the next wait at once, and a burst of them is one
    read. When the connection is lost, the task connects again every LISTEN_AGAIN_AFTER seconds;
    meanwhile `changed` waits out its timeout, so the hub reads every second as its own rule
    says. Once it listens (again), it tells of a change: what was written while nobody
    listened is not known.
    """

    def __init__(self, connect_params: dict[str, Any], channel: str = EDITS_CHANNEL):
        self._connect_params = connect_params
        self._channel = channel
        self._told = asyncio.Event()
        self._listening: asyncio.Task[None] | None = None

    async def changed(self, timeout: float) -> None:
        if self._listening is None:
            self._listening = asyncio.create_task(self._listen(), name="live-feed-listen")
        if not self._told.is_set():
            try:
                await asyncio.wait_for(self._told.wait(), timeout)
            except TimeoutError:
                return
        self._told.clear()

    def close(self) -> None:
        """Stop listening: the task closes its connection as it ends."""
        if self._listening is not None:
            self._listening.cancel()
            self._listening = None

    async def _listen(self) -> None:
        from psycopg import sql

        lost = False
        while True:
            try:
                async with await self._connect() as listener:
                    await listener.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
                    )
                    if lost:
                        logger.warning("Listening for changes to edits again.")
                    lost = False
                    self._told.set()  # what changed while nobody listened is not known
                    async for _notification in listener.notifies():
                        self._told.set()
            except Exception as error:  # whatever it was (the server gone, a refusal): again
                if not lost:
                    logger.warning(
                        "Not listening for changes to edits (%s): the open streams are read "
                        "every second until the database's notifications are back.",
                        error,
                    )
                lost = True
            await asyncio.sleep(LISTEN_AGAIN_AFTER)

    async def _connect(self) -> "psycopg.AsyncConnection[Any]":
        import psycopg

        return await psycopg.AsyncConnection.connect(**self._connect_params, autocommit=True)


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
    """For a database that cannot tell of changes: the hub looks every 50 ms."""

    async def changed(self, timeout: float) -> None:
        await asyncio.sleep(min(timeout, LOOK_EVERY))

    def close(self) -> None:
        pass


def listen_params(database: BaseDatabaseWrapper) -> dict[str, Any]:
    """What psycopg needs to open a connection of its own to this PostgreSQL database: Django's
    own parameters (host, name, user, password, OPTIONS such as sslmode), without those only
    Django's synchronous connections use, and with TCP keepalives, so that a machine that
    vanished without closing the connection is noticed in about a minute."""
    params: dict[str, Any] = database.get_connection_params()
    for name in ("context", "cursor_factory", "prepare_threshold"):
        params.pop(name, None)
    params.setdefault("application_name", "gaitu live updates")
    params.setdefault("connect_timeout", 10)
    for name, value in (
        ("keepalives", 1),
        ("keepalives_idle", 30),
        ("keepalives_interval", 10),
        ("keepalives_count", 3),
    ):
        params.setdefault(name, value)
    return params


def feed_for_the_database() -> ChangeFeed:
    """The feed that suits the configured database."""
    if connection.vendor == "postgresql":
        return PostgresNotifyFeed(listen_params(connection))
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and Path(name).is_file():
        return SqliteCommitFeed(Path(name).resolve())
    return PollingFeed()
