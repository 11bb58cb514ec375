"""Waiting for SQLite's write lock in steps of a millisecond (webapp/sqlite)."""

import sqlite3
import threading

import pytest
from django.db import connection

from webapp.sqlite.base import CursorWrapper
from webapp.sqlite.busy import RetryingConnection, retrying


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "locks.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
    return path


def holding_the_write_lock(path):
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_write_waits_for_the_lock_and_goes_on_once_it_is_free(database):
    holder = holding_the_write_lock(database)
    released = threading.Event()

    def release_soon():
        threading.Event().wait(0.2)
        released.set()
        holder.execute("COMMIT")

    threading.Thread(target=release_soon).start()
    waiter = sqlite3.connect(database, timeout=0, isolation_level=None, factory=RetryingConnection)
    waiter.execute("INSERT INTO t VALUES (1)")  # SQLite says busy at once; tried again
    assert released.is_set()  # it could only have gone in after the release
    assert waiter.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_it_gives_up_after_its_timeout_saying_the_database_is_locked(database):
    holder = holding_the_write_lock(database)
    waiter = sqlite3.connect(database, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        retrying(waiter.execute, 0.05, "INSERT INTO t VALUES (1)")
    holder.execute("ROLLBACK")


def test_other_errors_are_not_tried_again(database):
    calls = []

    def broken():
        calls.append(1)
        raise sqlite3.OperationalError("no such table: nothing")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retrying(broken, 30)
    assert calls == [1]


@pytest.mark.django_db
@pytest.mark.embedded_only
def test_django_uses_it():
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, CursorWrapper)
        assert cursor.cursor.lock_timeout == 30
