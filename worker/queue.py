"""The job queue in SQLite, with a nudge: a new edit wakes an idle worker at once.

huey's SQLite queue can only be polled, and an idle worker looks every quarter of a second,
which a person waiting for their edit pays on average half of. Here whoever adds a job also
sends one datagram to the worker's local UDP port (written beside the queue file), and each
idle worker thread waits on that port rather than sleeping: the job starts within a
millisecond or two. A lost nudge costs nothing but time: an idle thread looks at the queue
anyway after WAIT seconds, as the polling did (one of them, not each).

Loaded by huey (settings.HUEY); imports nothing of Django's.
"""

import contextlib
import os
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from huey import SqliteHuey
from huey.storage import SqliteStorage

from webapp.sqlite.busy import RetryingConnection

NUDGE = b"job"


class NudgedSqliteStorage(SqliteStorage):
    blocking = True  # dequeue() waits by itself, so huey's workers must not sleep as well
    WAIT = 1.0  # seconds an idle thread waits for a nudge before it looks anyway

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A busy queue database is waited for in steps of a millisecond, not SQLite's.
        super().__init__(*args, **kwargs, timeout=0, factory=RetryingConnection)
        self.port_file = Path(f"{self.filename}.port")
        self._listener: socket.socket | None = None
        self._listener_lock = threading.Lock()
        self._sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._turn = threading.local()  # .look: whether this thread looks at the queue next
        self._looked_lock = threading.Lock()
        self._looked_at = 0.0  # when an idle thread last looked, for want of a nudge

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        super().enqueue(data, priority)
        self.nudge()

    def dequeue(self) -> bytes | None:
        # A thread looks at the queue when it was nudged, or when no idle thread has looked
        # for WAIT seconds (for a nudge that was lost): hundreds of idle threads (one per edit
        # in flight, GAITU_WORKER_THREADS) would otherwise each query the queue every WAIT.
        # It still returns each WAIT, so that huey's stop is seen.
        data: bytes | None = super().dequeue() if getattr(self._turn, "look", True) else None
        if data is None:
            self._turn.look = self._wait_for_nudge()
        elif self._listener is not None and self._has_more():
            # One nudge wakes one thread. A burst of jobs can have a thread that was awake
            # anyway take a nudged job, so the thread nudged for it finds none and the job
            # after it waits for a timeout. Whoever takes a job wakes the next thread.
            self.nudge()
        return data

    def _has_more(self) -> bool:
        return bool(
            self.sql("select 1 from task where queue = ? limit 1", (self.name,), results=True)
        )

    def nudge(self) -> None:
        """Tell the worker that a job is waiting; never fails the enqueue."""
        with contextlib.suppress(OSError, ValueError):
            port = int(self.port_file.read_text())
            self._sender.sendto(NUDGE, ("127.0.0.1", port))

    def _wait_for_nudge(self) -> bool:
        """Wait for a nudge, up to WAIT; whether this thread should look at the queue now."""
        try:
            self.listen().recv(16)
        except BlockingIOError:  # SO_RCVTIMEO ran out (listen): no nudge came
            with self._looked_lock:
                now = time.monotonic()
                if now - self._looked_at < self.WAIT:
                    return False  # another idle thread looked a moment ago
                self._looked_at = now
        except OSError:  # no port to listen on: back to plain polling
            threading.Event().wait(self.WAIT)
        return True

    def listen(self) -> socket.socket:
        """The worker's socket, opened by the first idle thread; its port is published."""
        with self._listener_lock:
            if self._listener is None:
                listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                listener.bind(("127.0.0.1", 0))
                # The wait's limit is the kernel's (SO_RCVTIMEO), the socket blocking: then
                # idle threads wait in recv itself, and a nudge wakes one of them. With
                # Python's settimeout each waits in poll(), and every nudge woke all of them,
                # 255 idle threads taking the GIL in turn for one job (found with py-spy).
                seconds, fraction = divmod(self.WAIT, 1)
                limit = struct.pack("ll", int(seconds), int(fraction * 1_000_000))
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
                written = self.port_file.with_suffix(f".{os.getpid()}")
                written.write_text(str(listener.getsockname()[1]))
                written.replace(self.port_file)  # whole, or not at all
                self._listener = listener
            return self._listener


class NudgedSqliteHuey(SqliteHuey):
    storage_class = NudgedSqliteStorage
