"""The worker's database connections: SQLite's keep a small page cache of their own, and every
edit thread's connection is closed while the thread waits (release_connection).

Django opens a connection per thread, and the worker has a thread per edit in flight: 256
edits at once mean 256 connections, and one more watching them all (worker/watch.py). Each
keeps up to 2 MB of pages it has read (SQLite's default cache_size); having read the edits'
tables, one held about 450 KiB, so 500 of them (when each edit had a watching thread of its
own) held over 200 MiB. Their pages are in the operating system's file cache anyway, shared
and not the process's: a connection's own cache of 64 KiB costs a read from there now and
then, not a disk read.
"""

import threading
import time
from typing import Any

from django.db import connection as this_threads_connection
from django.db.backends.signals import connection_created

CACHE_KIB = 64
_edit_thread = threading.local()


def in_edit_thread() -> None:
    """Mark this thread as one of the worker's: its connections get the small cache."""
    _edit_thread.marked = True


# A thread's writes closer together than this keep its SQLite connection: a 3-second answer's
# dozen progress writes would otherwise open it a dozen times (the 32-edit burst took 1.65x
# one edit against 1.37x), where a 30-second answer's come 0.75 s or more apart. At 1 s, too
# many of those kept theirs: the in-flight peak was 346 MiB against 261.
KEEP_WITHIN = 0.25


def release_connection(mine: Any = this_threads_connection) -> None:
    """Close this thread's connection while it waits (on the gateway, or for a picture turn);
    the next query opens one again.

    Hundreds of edits may wait at once, each on a thread of its own (GAITU_WORKER_THREADS). A
    PostgreSQL connection goes back to the pool, or 256 edits would need as many of the
    database's connections for the minutes a reply takes. A SQLite connection that has run an
    edit's queries holds some 290 KiB (its own parse of the schema's 107 tables, indexes and
    triggers, its page cache, Django's side): 72 MiB for 256 edits in flight. Opening one
    again costs about a millisecond, so an edit thread's is closed unless it was let go less
    than KEEP_WITHIN ago (its writes come fast, and the next will too).
    """
    if mine.in_atomic_block:
        return
    if mine.vendor == "postgresql":
        mine.close()
    elif getattr(_edit_thread, "marked", False):
        now = time.monotonic()
        last, _edit_thread.released_at = getattr(_edit_thread, "released_at", None), now
        if last is None or now - last >= KEEP_WITHIN:
            mine.close()  # an in-memory SQLite database (the tests') is kept by Django's close()


def _small_cache(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite" and getattr(_edit_thread, "marked", False):
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


connection_created.connect(_small_cache, dispatch_uid="worker-small-sqlite-cache")
