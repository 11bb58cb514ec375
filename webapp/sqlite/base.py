"""Django's SQLite backend, with waits for the write lock that end when the lock comes free.

With the web server and the worker's threads writing at once, SQLite's own busy handler, which
sleeps in growing steps, was most of a burst's latency (py-spy: the web's commits and the
worker's starts sat in it). Here each statement, and each BEGIN, is tried again every
millisecond instead (see busy.py), for as long as the database's `timeout` option allows.
In WAL mode with IMMEDIATE transactions a write waits only at BEGIN or, outside a
transaction, at its own statement, so nothing is ever half done when it is tried again.

Before it asks SQLite at all, a thread waits for its process's turn at the lock (turns.py), so
that of a process's writers only the one whose turn it is asks, and they go in the order they
came. Not for an in-memory database (the tests'), which is one connection shared by threads.
"""

import sqlite3
from collections.abc import Callable
from typing import Any

from django.db.backends.sqlite3 import base

from .busy import RetriesWhenBusy, retrying
from .turns import WriteTurns, take_turn, turns_for

# Statements that never take the write lock outside a transaction: all others wait for a turn.
READING = frozenset(
    ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "RELEASE")
)


class CursorWrapper(RetriesWhenBusy, base.SQLiteCursorWrapper):
    """Django's cursor (its placeholder styles), with lock_timeout set from the options; a
    write outside a transaction waits for its process's turn at the lock (turns.py)."""

    turns: WriteTurns | None = None

    def execute(self, query: str, params: Any = None) -> Any:
        return self._in_turn(not _reads(query), super().execute, query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        return self._in_turn(True, super().executemany, query, param_list)

    def _in_turn(self, writes: bool, call: Callable[..., Any], *args: Any) -> Any:
        """call(*args), in the process's turn when it writes outside a transaction."""
        if self.turns is None or not writes or self.connection.in_transaction:
            return call(*args)
        take_turn(self.turns, self.lock_timeout)
        try:
            return call(*args)
        finally:
            self.turns.release()


def _reads(query: str) -> bool:
    words = query[:32].split(None, 1)
    return not words or words[0].upper() in READING


class DatabaseWrapper(base.DatabaseWrapper):
    """A transaction (BEGIN IMMEDIATE: the write lock at once) begins with the process's turn
    at the lock and gives it back as it ends, committed or not."""

    _has_turn = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        self.lock_timeout = float(conn_params.get("timeout", 5.0))
        self.turns = turns_for(str(conn_params.get("database", "")))
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
        if not self.is_in_memory_db():  # one connection, shared: SQLite's lock is not in play
            cursor.turns = self.turns
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        if self.is_in_memory_db() or self._has_turn:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
            return
        with self.wrap_database_errors:
            take_turn(self.turns, self.lock_timeout)
        self._has_turn = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
        except BaseException:
            self._give_turn()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._give_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._give_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._give_turn()

    def __del__(self) -> None:
        # A thread that ended inside a transaction drops its connection unclosed, which ends
        # SQLite's lock as the connection goes: the turn goes with it.
        self._give_turn()

    def _give_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self.turns.release()
