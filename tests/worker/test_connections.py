"""The worker's threads keep a small SQLite page cache each, and let their connections go
while they wait (worker/connections.py)."""

import threading

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from worker.connections import CACHE_KIB, in_edit_thread, release_connection


def in_a_thread(path, mark: bool, probe):
    """probe(connection) in a thread of its own (an edit thread if mark), with a connection
    to a file database of its own (the tests' in-memory database shares one cache, and is
    never closed); what it returned."""
    seen: list = []

    def thread() -> None:
        if mark:
            in_edit_thread()
        settings = {**connections["default"].settings_dict, "NAME": str(path)}
        connection = DatabaseWrapper(settings, alias="probe")
        try:
            seen.append(probe(connection))
        finally:
            connection.in_atomic_block = False
            connection.close()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join(timeout=20)
    assert seen, "the thread could not connect"
    return seen[0]


def cache_size(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]


def kept_after_releases(releases: int):
    """A probe: whether the connection is still open after `releases` in a row, each after a
    query; and that the next query opens it again."""

    def probe(connection) -> bool:
        for _ in range(releases):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            release_connection(connection)
        kept = connection.connection is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
            assert cursor.fetchone() == (2,)
        return kept

    return probe


@pytest.mark.embedded_only
def test_an_edit_threads_connection_keeps_a_small_cache(db, tmp_path):
    path = tmp_path / "probe.sqlite3"
    assert in_a_thread(path, True, cache_size) == -CACHE_KIB
    assert in_a_thread(path, False, cache_size) != -CACHE_KIB  # SQLite's own


@pytest.mark.embedded_only
def test_an_edit_thread_lets_its_sqlite_connection_go_while_it_waits(db, tmp_path):
    path = tmp_path / "probe.sqlite3"
    assert not in_a_thread(path, True, kept_after_releases(1))
    assert in_a_thread(path, False, kept_after_releases(1))  # a web process's thread keeps it


@pytest.mark.embedded_only
def test_writes_that_come_fast_keep_the_connection(db, tmp_path, monkeypatch):
    path = tmp_path / "probe.sqlite3"
    # The second release follows the first at once: kept, as a fast answer's progress is.
    assert in_a_thread(path, True, kept_after_releases(2))
    monkeypatch.setattr("worker.connections.KEEP_WITHIN", 0.0)  # as if seconds apart
    assert not in_a_thread(path, True, kept_after_releases(2))


@pytest.mark.embedded_only
def test_a_connection_in_a_transaction_is_kept(db, tmp_path):
    def probe(connection) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.in_atomic_block = True  # as inside transaction.atomic()
        release_connection(connection)
        return connection.connection is not None

    assert in_a_thread(tmp_path / "t.sqlite3", True, probe)
