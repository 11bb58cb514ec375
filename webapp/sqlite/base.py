"""Django's SQLite backend, with waits for the write lock that end when the lock comes free.

With the web server and the worker's threads writing at once, SQLite's own busy handler, which
sleeps in growing steps, was most of a burst's latency (py-spy: the web's commits and the
worker's starts sat in it). Here each statement, and each BEGIN, is tried again every
millisecond instead (see busy.py), for as long as the database's `timeout` option allows.
In WAL mode with IMMEDIATE transactions a write waits only at BEGIN or, outside a
transaction, at its own statement, so nothing is ever half done when it is tried again.
"""

import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base

from .busy import RetriesWhenBusy, retrying


class CursorWrapper(RetriesWhenBusy, base.SQLiteCursorWrapper):
    """Django's cursor (its placeholder styles), with lock_timeout set from the options."""


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        self.lock_timeout = float(conn_params.get("timeout", 5.0))
        at_once = {**conn_params, "timeout": 0}  # busy is reported, not slept on
        connection: sqlite3.Connection = retrying(
            super().get_new_connection, self.lock_timeout, at_once
        )
        # Each request runs in a thread of its own and closes its connection at the end; when
        # it was the last one open, SQLite would copy the whole write-ahead log back into the
        # database and delete it, on every request. The log is still checkpointed as it grows
        # (every 1000 pages), so only that needless work goes.
        connection.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
        return connection

    def create_cursor(self, name: str | None = None) -> CursorWrapper:
        cursor: CursorWrapper = self.connection.cursor(factory=CursorWrapper)
        cursor.lock_timeout = self.lock_timeout
        return cursor
