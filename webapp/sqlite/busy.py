"""Waiting for SQLite's write lock in steps of a millisecond, for the database and the queue.

SQLite's own busy handler sleeps in growing steps (1, 2, 5, 10, … 100 ms) while another
connection writes, so a write that has to wait at all often waits many times longer than the
lock was held. Here SQLite is asked to report a busy lock at once, and the statement is tried
again every millisecond for up to `timeout` seconds in all: the same idea as the busy handler
Rails 8 gives SQLite. A statement refused as busy did nothing, so trying it again is safe.
Imports nothing of Django's (huey's queue storage uses it too).
"""

import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

RETRY_EVERY = 0.001  # seconds
LOCK_TIMEOUT = 30.0  # seconds, for RetryingConnection (the database's own comes from settings)


def retrying[T](call: Callable[..., T], timeout: float, *args: Any) -> T:
    """call(*args), again while SQLite says the database is busy, for up to timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(RETRY_EVERY)


class RetriesWhenBusy(sqlite3.Cursor):
    """A cursor's execute() and executemany(), tried again while the database is busy.

    Mixed in before a cursor class (sqlite3's own, or Django's wrapper of it).
    """

    lock_timeout = LOCK_TIMEOUT

    def execute(self, *args: Any) -> Any:
        return retrying(super().execute, self.lock_timeout, *args)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Any:
        return retrying(super().executemany, self.lock_timeout, sql, list(seq_of_parameters))


class RetryingCursor(RetriesWhenBusy):
    pass


class RetryingConnection(sqlite3.Connection):
    """For sqlite3.connect(…, timeout=0, factory=RetryingConnection)."""

    def cursor(self, factory: Any = RetryingCursor) -> Any:
        return super().cursor(factory)

    def execute(
        self, sql: str, parameters: Any = ()
    ) -> Any:  # the built-in one makes a plain cursor
        return self.cursor().execute(sql, parameters)
