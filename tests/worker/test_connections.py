"""The worker's threads keep a small SQLite page cache each (worker/connections.py)."""

import threading

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from worker.connections import CACHE_KIB, in_edit_thread, release_connection


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


def connection_kept_after_release(path, mark: bool) -> bool:
    """Whether a thread's connection to a file database is still open after it waits."""
    kept: list[bool] = []

    def thread() -> None:
        if mark:
            in_edit_thread()
        settings = {**connections["default"].settings_dict, "NAME": str(path)}
        connection = DatabaseWrapper(settings, alias="probe")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            release_connection(connection)
            kept.append(connection.connection is not None)
            with connection.cursor() as cursor:  # and the next query opens it again
                cursor.execute("SELECT 2")
                assert cursor.fetchone() == (2,)
        finally:
            connection.close()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join(timeout=20)
    assert kept, "the thread could not connect"
    return kept[0]


@pytest.mark.embedded_only
def test_an_edit_thread_lets_its_sqlite_connection_go_while_it_waits(db, tmp_path):
    path = tmp_path / "probe.sqlite3"
    assert not connection_kept_after_release(path, mark=True)
    assert connection_kept_after_release(path, mark=False)  # a web process's thread keeps it


@pytest.mark.embedded_only
def test_a_connection_in_a_transaction_is_kept(db, tmp_path):
    settings = {**connections["default"].settings_dict, "NAME": str(tmp_path / "t.sqlite3")}
    kept: list[bool] = []

    def thread() -> None:
        in_edit_thread()
        connection = DatabaseWrapper(settings, alias="probe")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            connection.in_atomic_block = True  # as inside transaction.atomic()
            release_connection(connection)
            kept.append(connection.connection is not None)
        finally:
            connection.in_atomic_block = False
            connection.close()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join(timeout=20)
    assert kept == [True]
