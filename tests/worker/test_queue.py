"""The SQLite job queue's nudge (worker/queue.py): a new job wakes an idle worker thread."""

import re
import select
import threading
from pathlib import Path

from tests.support.live import wait_until
from worker.queue import NUDGE, NudgedSqliteStorage


def storages(tmp_path, wait: float):
    """The web process's view of the queue and the worker's: two storages, one file."""
    web = NudgedSqliteStorage("gaitu", filename=str(tmp_path / "queue.sqlite3"))
    worker = NudgedSqliteStorage("gaitu", filename=str(tmp_path / "queue.sqlite3"))
    worker.WAIT = wait
    return web, worker


def test_an_idle_worker_is_woken_by_a_new_job(tmp_path):
    web, worker = storages(tmp_path, wait=60)
    worker.listen()  # as its first idle thread does
    assert worker.port_file.read_text().isdigit()
    seen = []
    waiting = threading.Thread(target=lambda: seen.append(worker.dequeue()))
    waiting.start()
    web.enqueue(b"edit")
    waiting.join(timeout=20)
    assert not waiting.is_alive()  # woken: without the nudge it would wait a minute
    assert seen == [None]  # it woke empty-handed, and the job is for its next look
    assert worker.dequeue() == b"edit"


def test_without_a_worker_listening_enqueueing_still_works(tmp_path):
    web, worker = storages(tmp_path, wait=0.01)
    web.enqueue(b"edit")  # no port file yet: the nudge goes nowhere
    (tmp_path / "queue.sqlite3.port").write_text("not a port")
    web.enqueue(b"edit 2")
    assert worker.dequeue() == b"edit"
    assert worker.dequeue() == b"edit 2"


def test_whoever_takes_a_job_wakes_the_next_thread_while_more_wait(tmp_path):
    web, worker = storages(tmp_path, wait=60)
    listener = worker.listen()
    web.enqueue(b"first")
    web.enqueue(b"second")
    listener.recv(16), listener.recv(16)  # both nudges taken, as by threads that found nothing
    assert worker.dequeue() == b"first"  # by a thread that was awake anyway
    assert select.select([listener], [], [], 20)[0]  # it nudged an idle thread for "second"
    assert listener.recv(16) == NUDGE
    assert worker.dequeue() == b"second"
    assert not select.select([listener], [], [], 0)[0]  # and nobody for an empty queue


def test_idle_threads_take_turns_to_look_for_want_of_a_nudge(tmp_path, monkeypatch):
    """Without a nudge, one idle thread a WAIT looks at the queue, not each of them."""
    _web, worker = storages(tmp_path, wait=0.05)
    worker.listen()
    looks = []
    real = NudgedSqliteStorage.__mro__[1].dequeue

    def counted(self):
        looks.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(NudgedSqliteStorage.__mro__[1], "dequeue", counted)

    def idle(rounds: int) -> None:
        for _ in range(rounds):
            assert worker.dequeue() is None

    threads = [threading.Thread(target=idle, args=(4,), name=f"idle-{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    # Each thread's first look, then one a WAIT between them all: fewer than one each round.
    assert len(set(looks)) == 8
    assert len(looks) < 8 * 4


def _switches(native_id: int) -> int:
    """How often the thread has given up the core for a wait: once per wake-up, and more."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", status).group(1))


def _sleeping(native_id: int) -> bool:
    """Whether the thread is asleep in the kernel, waiting (not running, not runnable)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return "State:\tS" in status


def test_a_nudge_wakes_one_idle_thread_not_all_of_them(tmp_path):
    """Hundreds of idle threads wait on the one socket (GAITU_WORKER_THREADS): each nudge used
    to wake every one of them, to find the datagram taken. Counted by the kernel's context
    switches of each waiting thread, not by time."""
    web, worker = storages(tmp_path, wait=60)
    worker.listen()
    waiters, nudges = 8, 10
    woken = threading.Semaphore(0)
    ids: list[int] = []
    stop = threading.Event()

    def idle() -> None:
        ids.append(threading.get_native_id())
        while not stop.is_set():
            worker._wait_for_nudge()
            woken.release()

    threads = [threading.Thread(target=idle, daemon=True) for _ in range(waiters)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(ids) == waiters and all(_sleeping(i) for i in ids), what="all waiting")
    before = sum(_switches(i) for i in ids)
    for _ in range(nudges):
        web.nudge()
        assert woken.acquire(timeout=20)
        wait_until(lambda: all(_sleeping(i) for i in ids), what="all waiting again")
    extra = sum(_switches(i) for i in ids) - before
    # One waiter woken a nudge, plus a few for the GIL; all of them would be 8 a nudge.
    assert extra < 3 * nudges, extra
    stop.set()
    for _ in range(waiters):
        web.nudge()
    for thread in threads:
        thread.join(timeout=20)
