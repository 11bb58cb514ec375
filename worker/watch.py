"""While edits run: refresh their heartbeats, and notice at once when one is canceled.

One thread in each worker process looks after every edit in flight there, with one query a
second for all of them and one heartbeat write for all of them every HEARTBEAT_EVERY. With a
thread (and a database connection) for each edit, 256 edits in flight meant 256 more threads,
256 more SQLite connections with their own parsed schema and page cache, 256 queries a second
and 25 writes a second, each taking the database's one write lock.
"""

import logging
import threading
import time

import httpx
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from editor.models import Edit
from gateway import fetch
from gateway.failures import Failure, GatewayFailure

from .connections import in_edit_thread, release_connection

logger = logging.getLogger(__name__)

# SQLite allows 32,766 variables in a statement (from 3.32), older builds 999: a look at
# 256 edits or at thousands is made in rounds of this many.
ROUND = 500


class EditWatch:
    """One edit's part in the watch: its clients, closed from the watch's thread on a cancel,
    which ends a blocked read in the edit's thread at once, even if the gateway is silent (the
    edit's client, and each one opened for requests sent side by side: open_client)."""

    INTERVAL = 1.0  # seconds between looks for a cancel
    # Seconds between heartbeats: far inside GAITU_HEARTBEAT_TIMEOUT, and sparing with writes,
    # which all edits of all workers share one database lock for.
    HEARTBEAT_EVERY = 10.0

    def __init__(self, edit: Edit, client: httpx.Client):
        self.edit = edit
        self._clients = [client]
        self._clients_lock = threading.Lock()
        self.canceled = False
        self._stop = threading.Event()

    def __enter__(self) -> "EditWatch":
        WATCH.add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        WATCH.remove(self)
        self._stop.set()

    def open_client(self) -> httpx.Client:
        """A client of its own for one more request, closed with the others on a cancel (at
        once, if the edit is canceled already)."""
        client = httpx.Client(trust_env=False, verify=fetch.TLS_VERIFY)
        with self._clients_lock:
            self._clients.append(client)
            if self.canceled:
                client.close()
        return client

    def sleep(self, seconds: float) -> None:
        """Wait between gateway attempts, but not past a cancel."""
        self._stop.wait(seconds)
        self.stop_if_canceled()

    def stop_if_canceled(self) -> None:
        if self.canceled:
            raise GatewayFailure(Failure("interrupted"))

    def cancel(self) -> None:
        """This run is over: close its clients and end its waits."""
        with self._clients_lock:
            self.canceled = True
            for client in self._clients:
                client.close()
        self._stop.set()

    @property
    def run(self) -> tuple[str, int]:
        """What the edit's row says while this run is its own: running, at this attempt."""
        return (Edit.Status.RUNNING, self.edit.attempts)


class Watch:
    """The process's one watching thread, there while some edit runs and gone when none does
    (so no idle thread holds a database connection)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: set[EditWatch] = set()
        self._emptied = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, watch: EditWatch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="edit-watch", daemon=True)
                self._thread.start()

    def remove(self, watch: EditWatch) -> None:
        with self._lock:
            self._watches.discard(watch)
            if not self._watches:
                self._emptied.set()

    def _run(self) -> None:
        in_edit_thread()  # its connection gets the worker's small page cache
        last_beat = time.monotonic()
        try:
            while True:
                self._emptied.wait(EditWatch.INTERVAL)
                with self._lock:
                    self._emptied.clear()
                    if not self._watches:
                        self._thread = None
                        return
                    watches = list(self._watches)
                beat_after = min(EditWatch.HEARTBEAT_EVERY, settings.GAITU_HEARTBEAT_TIMEOUT / 4)
                beat = time.monotonic() - last_beat >= beat_after
                try:
                    self._look(watches, beat)
                    last_beat = time.monotonic() if beat else last_beat
                except DatabaseError:
                    logger.warning("edits' heartbeat skipped", exc_info=True)
                except Exception:
                    # Every edit in the process depends on this one thread: without beats,
                    # they would seem lost and be run again elsewhere. It goes on looking.
                    logger.exception("edit watch: a look failed")
                finally:
                    release_connection()  # not held for the second until the next look
        finally:
            with self._lock:  # however it ended, the next edit starts a thread again
                if self._thread is threading.current_thread():
                    self._thread = None
            connection.close()

    def _look(self, watches: list[EditWatch], beat: bool) -> None:
        watches = [watch for watch in watches if not watch.canceled]  # over, and closed once
        for start in range(0, len(watches), ROUND):
            some = watches[start : start + ROUND]
            rows = Edit.objects.filter(pk__in=[watch.edit.pk for watch in some])
            looked = rows.values_list("pk", "status", "attempts")
            now = {pk: (status, attempts) for pk, status, attempts in looked}
            going = []
            for watch in some:
                # Canceled, or taken up again elsewhere (its worker seemed gone): either way
                # this run is over, and its attempt count tells the second apart.
                if now.get(watch.edit.pk) != watch.run:
                    watch.cancel()
                else:
                    going.append(watch.edit.pk)
            if beat and going:
                Edit.objects.filter(pk__in=going).update(heartbeat_at=timezone.now())


WATCH = Watch()
