"""Nothing is left behind by a worker that stops: its edits are taken up again in seconds.

Each worker process beats every few seconds (worker/liveness.py, a WorkerProcess row). The
sweep, run by one worker at a time every SWEEP_EVERY seconds, finds

- running edits whose worker is gone (its beats stopped, or, on this host, its process no
  longer exists) or whose own heartbeat stopped: queued again (a finished generation only to
  download again; an unfinished one once, then failed as interrupted, with Retry);
- queued edits whose turn has come but that no job will start (the job died with its
  worker, or the edit that freed the slot could not pass the turn on): started.
"""

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from editor.models import Edit
from providers.health import prune as forget_old_calls
from webhooks.tasks import enqueue_overdue

from .models import Sweep, WorkerProcess
from .tasks import enqueue_on_commit, next_in_line, run_edit

logger = logging.getLogger(__name__)

BEAT_EVERY = 2.0  # seconds between a worker process's beats
DEAD_AFTER = 10.0  # seconds without a beat before a worker counts as gone
SWEEP_EVERY = 5.0  # seconds between sweeps, for the whole installation
# A queued edit this young may have its job in a worker's hands right now, about to start.
JOB_IN_HAND = 5.0  # seconds


def take_turn_to_sweep() -> bool:
    """Whether this process sweeps now: at most one does, per interval, of all the workers."""
    now = timezone.now()
    Sweep.objects.get_or_create(pk=1, defaults={"swept_at": now - timedelta(days=1)})
    due = now - timedelta(seconds=SWEEP_EVERY)
    return bool(Sweep.objects.filter(pk=1, swept_at__lte=due).update(swept_at=now))


def recover_interrupted() -> int:
    """One sweep: take up the edits of workers that are gone; the number of running edits."""
    # Only edits started before the workers are looked at: a worker registers before it
    # starts anything, so one that started an edit since then is not taken for gone.
    now = timezone.now()
    alive = live_workers()
    stale = now - timedelta(seconds=settings.GAITU_HEARTBEAT_TIMEOUT)
    orphans = [
        edit
        for edit in Edit.objects.filter(status=Edit.Status.RUNNING, started_at__lt=now)
        if edit.worker not in alive or (edit.heartbeat_at or edit.started_at or now) < stale
    ]
    for edit in orphans:
        _take_up(edit)
    WorkerProcess.objects.exclude(name__in=alive).delete()
    start_lost_turns()
    enqueue_overdue()  # webhook deliveries whose job went with a worker
    forget_old_calls()  # the providers' health is kept a day
    return len(orphans)


def live_workers() -> set[str]:
    """The worker processes that beat lately and, on this host, still exist."""
    recently = timezone.now() - timedelta(seconds=DEAD_AFTER)
    names = WorkerProcess.objects.filter(beat_at__gte=recently).values_list("name", flat=True)
    return {name for name in names if not _dead_here(name)}


def _take_up(edit: Edit) -> None:
    """Queue the edit again (or fail it), if it is still the run the sweep found.

    Sweeps can overlap: each worker sweeps when it starts, besides its turns, and workers on
    several hosts start at once after an outage. Another sweep may have taken this edit up
    since it was read, and a worker started it again: that run is left alone. The row is
    locked meanwhile (SQLite's IMMEDIATE transaction holds the whole database), so no worker
    starts it between the check and the change.
    """
    with transaction.atomic():
        same_run = Edit.objects.select_for_update().filter(
            pk=edit.pk, status=Edit.Status.RUNNING, worker=edit.worker, attempts=edit.attempts
        )
        if same_run.exists():
            _queue_again_or_fail(edit)


def _queue_again_or_fail(edit: Edit) -> None:
    if edit.result_links or edit.recoveries == 0:
        if edit.transition(
            Edit.Status.QUEUED,
            stage=Edit.Stage.QUEUED,
            queued_at=timezone.now(),
            recoveries=edit.recoveries + 1,
        ):
            logger.warning("edit %s: its worker stopped; queued again", edit.pk)
            enqueue_on_commit(edit)
    elif edit.fail("interrupted"):
        logger.warning("edit %s: its worker stopped twice; failed", edit.pk)


def start_lost_turns() -> int:
    """Start the queued edits whose turn has come and for which no job waits in the queue."""
    waiting = {_edit_of(job) for job in HUEY.pending()}
    settled = timezone.now() - timedelta(seconds=JOB_IN_HAND)
    queued = Edit.objects.filter(status=Edit.Status.QUEUED, queued_at__lt=settled)
    owners = set(queued.values_list("owner_id", flat=True))
    lost = [pk for owner in owners for pk in next_in_line(owner) if pk not in waiting]
    for pk in lost:
        logger.warning("edit %s: its turn came with no job to start it; started", pk)
        run_edit.enqueue(pk)
    return len(lost)


def _edit_of(job: object) -> str | None:
    """The edit a queued job runs (django.tasks jobs reach huey as (path, args, kwargs))."""
    args = getattr(job, "args", None)
    if args and len(args) >= 2 and args[0] == run_edit.module_path and args[1]:
        return str(args[1][0])
    return None


def _dead_here(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
