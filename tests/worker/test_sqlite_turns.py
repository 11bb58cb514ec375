"""Threads of one process take turns at SQLite's write lock, in the order they came
(webapp/sqlite/turns.py and its use in webapp/sqlite/base.py)."""

import gc
import threading
import time

import pytest
from django.db import OperationalError

from webapp.sqlite.base import DatabaseWrapper
from webapp.sqlite.turns import WriteTurns, turns_for


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_turns_come_in_the_order_they_were_asked_for():
    turns, order = WriteTurns(), []
    assert turns.acquire(1)

    def take(n):
        assert turns.acquire(10)
        order.append(n)
        turns.release()

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=take, args=(n,)))
        threads[-1].start()
        wait_for(lambda n=n: turns.waiting == n + 1)
    turns.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert turns.acquire(0)  # free again once the last gave it back


def test_a_wait_that_times_out_leaves_the_queue():
    turns = WriteTurns()
    assert turns.acquire(1)
    assert turns.acquire(0.02) is False
    assert turns.waiting == 0
    turns.release()
    assert turns.acquire(0)


def open_database(path, timeout=5.0):
    database = DatabaseWrapper(
        {
            "ENGINE": "webapp.sqlite",
            "NAME": str(path),
            "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE"},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TEST": {},
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
        },
        alias=f"turns-{threading.get_ident()}",
    )
    database.ensure_connection()
    return database


@pytest.fixture
def path(tmp_path, django_db_blocker):
    """A database file of the test's own, opened through Gaitu's backend, not Django's test
    database (in memory, where SQLite's lock and the turns are not in play)."""
    with django_db_blocker.unblock():
        yield make_database(tmp_path)


def make_database(tmp_path):
    path = tmp_path / "turns.sqlite3"
    setup = open_database(path)
    with setup.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (n INTEGER)")
    setup.close()
    return path


def begin(database):
    database._start_transaction_under_autocommit()


def test_writes_waiting_on_a_transaction_go_in_the_order_they_came(path):
    holder = open_database(path)
    begin(holder)  # holds SQLite's write lock, and the process's turn
    turns = turns_for(str(path))

    def insert(n):
        database = open_database(path)
        with database.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (%s)", [n])
        database.close()

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=insert, args=(n,)))
        threads[-1].start()
        wait_for(lambda n=n: turns.waiting == n + 1)  # each asleep in the queue, not polling
    holder.commit()
    for thread in threads:
        thread.join()
    with holder.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY rowid")
        assert [n for (n,) in cursor.fetchall()] == list(range(8))
    holder.close()
    assert turns.acquire(0)  # nobody kept a turn
    turns.release()


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_transaction_gives_its_turn_back_however_it_ends(path, end):
    first, second = open_database(path), open_database(path, timeout=0.05)
    begin(first)
    with pytest.raises(OperationalError, match="database is locked"):
        begin(second)  # no turn within its timeout: SQLite's own words
    getattr(first, end)()
    begin(second)  # the turn came back, and the failed wait did not keep one
    second.rollback()
    first.close()
    second.close()


def test_a_connection_dropped_inside_its_transaction_gives_its_turn_back(path):
    def begin_and_end_the_thread():
        begin(open_database(path))  # the thread's connection goes when the thread does

    thread = threading.Thread(target=begin_and_end_the_thread)
    thread.start()
    thread.join()
    gc.collect()
    other = open_database(path, timeout=1)
    begin(other)
    other.rollback()
    other.close()


def test_reads_outside_a_transaction_take_no_turn(path):
    holder = open_database(path)
    begin(holder)
    reader = open_database(path, timeout=0.05)
    with reader.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")  # WAL: a read never waits for the writer
        assert cursor.fetchone() == (0,)
    holder.rollback()
    holder.close()
    reader.close()
