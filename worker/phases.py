"""How many edits of this worker do their picture work at once: a few, whatever the threads.

Hundreds of edits may be in flight in one worker (GAITU_WORKER_THREADS), nearly all waiting on
the gateway, which costs a thread and a socket each. Their picture work (decoding and shaping
the originals, thumbnails, display renditions, cleaning, and the results' downloads) needs the
cores, which imaging's PICTURE_WORK shares out; but an edit that has read its original, or
decoded a still, and then waits for a core holds megabytes while it waits: 256 edits arriving
at once held 1.4 GB that way. An edit takes a turn here before its picture work instead, and
holds nothing but its thread while it waits for one.
"""

import os
import threading
from types import TracebackType

from .connections import release_connection

# Twice the cores: one edit's picture work can wait on its files while another's uses the core.
TURNS = 2 * (os.cpu_count() or 2)
_turns = threading.BoundedSemaphore(TURNS)


class PicturePhase:
    """One edit's turn at picture work: taken on entering (unless held), given back on leaving
    or by release() from whichever thread finishes the work, once."""

    def __init__(self) -> None:
        self._held = False
        self._lock = threading.Lock()

    def __enter__(self) -> "PicturePhase":
        with self._lock:
            held = self._held
        if not held:
            release_connection()  # not held from the pool while waiting for a turn
            _turns.acquire()
            with self._lock:
                self._held = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        _turns.release()
