"""A worker process's beat, and the recovery sweep it takes its turn at, in one thread."""

import logging
import threading

from django.db import DatabaseError, connection
from django.utils import timezone

from .models import WorkerProcess
from .recovery import BEAT_EVERY, recover_interrupted, take_turn_to_sweep
from .tasks import WORKER_ID

logger = logging.getLogger(__name__)


class Liveness:
    """While the worker runs: beat every BEAT_EVERY seconds and sweep when it is this
    process's turn. Registered before the first job is taken, gone when the worker stops."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveness", daemon=True)

    def __enter__(self) -> "Liveness":
        now = timezone.now()
        WorkerProcess.objects.update_or_create(
            name=WORKER_ID, defaults={"started_at": now, "beat_at": now}
        )
        # A restarted worker takes up what its predecessor left at once, not at its turn.
        recovered = recover_interrupted()
        if recovered:
            logger.warning("Recovered %d edit(s) left running by a stopped worker.", recovered)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        WorkerProcess.objects.filter(name=WORKER_ID).delete()

    def _run(self) -> None:
        try:
            while not self._stop.wait(BEAT_EVERY):
                try:
                    now = timezone.now()
                    # Gone from the table if a long stall made it look dead: here again.
                    if not WorkerProcess.objects.filter(name=WORKER_ID).update(beat_at=now):
                        WorkerProcess.objects.create(name=WORKER_ID, beat_at=now)
                    if take_turn_to_sweep():
                        recover_interrupted()
                except DatabaseError:
                    logger.warning("worker beat or sweep skipped", exc_info=True)
        finally:
            connection.close()
