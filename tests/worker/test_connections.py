"""The worker's threads keep a small SQLite page cache each (worker/connections.py)."""

import threading

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from worker.connections import CACHE_KIB, in_edit_thread


def cache_size_of_a_new_connection(path, mark: bool) -> int:
    """A connection to a file of its own (the tests' in-memory database shares one cache)."""
    seen: list[int] = []

    def thread() -> None:
        if mark:
            in_edit_thread()
        settings = {**connections["default"].settings_dict, "NAME": str(path)}
        connection = DatabaseWrapper(settings, alias="probe")
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                seen.append(cursor.fetchone()[0])
        finally:
            connection.close()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join(timeout=20)
    assert seen, "the thread could not connect"
    return seen[0]


@pytest.mark.embedded_only
def test_an_edit_threads_connection_keeps_a_small_cache(db, tmp_path):
    path = tmp_path / "probe.sqlite3"
    assert cache_size_of_a_new_connection(path, mark=True) == -CACHE_KIB
    assert cache_size_of_a_new_connection(path, mark=False) != -CACHE_KIB  # SQLite's own
