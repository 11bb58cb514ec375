"""Turns at SQLite's write lock for the threads of one process, first come first served.

SQLite has no queue for its write lock: whoever asks just after it comes free gets it. With the
worker's threads and the web server's writing at once, each waiter asks again every millisecond
(busy.py), so with a hundred of them waiting, a hundred wake-ups a millisecond are spent on
asking, and the one that came first may keep losing to those that came later: under 256 uploads
at once, one request waited out the whole 30 s timeout and failed. Here the threads of a
process wait for their turn in the order they came, asleep; only the one whose turn it is asks
SQLite, so the lock is contended by one thread per process, not by every writer.

A turn is taken where SQLite's write lock is: at BEGIN IMMEDIATE until COMMIT or ROLLBACK,
and around a write statement outside a transaction (base.py). Pure threading: nothing of
Django's.
"""

import sqlite3
import threading
from collections import deque


class WriteTurns:
    """A fair lock: acquire() returns in the order the calls came, or False after timeout."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._taken = False

    @property
    def waiting(self) -> int:
        """How many threads wait for a turn."""
        return len(self._waiting)

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._taken:
                self._taken = True
                return True
            baton = threading.Lock()
            baton.acquire()
            self._waiting.append(baton)
        if baton.acquire(timeout=max(0.0, timeout)):
            return True  # handed over by release(): the turn stays taken, now this thread's
        with self._guard:
            if baton in self._waiting:
                self._waiting.remove(baton)
                return False
        return True  # handed over just as the wait ended: it is this thread's all the same

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # straight to the next: nobody can cut in
            else:
                self._taken = False


_turns: dict[str, WriteTurns] = {}
_turns_guard = threading.Lock()


def turns_for(database: str) -> WriteTurns:
    """The process's one WriteTurns of a database file."""
    with _turns_guard:
        return _turns.setdefault(database, WriteTurns())


def take_turn(turns: WriteTurns, timeout: float) -> None:
    """Wait for a turn; after timeout, the error SQLite gives when its own wait runs out."""
    if not turns.acquire(timeout):
        raise sqlite3.OperationalError("database is locked")
