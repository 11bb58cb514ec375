"""Background jobs, enqueued through django.tasks (huey runs them in the worker)."""

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import pipeline
from .models import Edit
from .reply import FAILURE_CODES

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
WAIT_FOR_A_SLOT = 0.5  # seconds before an edit over its owner's limit asks again
_STARTING = threading.Lock()


@task()
def run_edit(edit_id: str) -> None:
    import time as _t

    _b = _t.time()
    started = _start_in_turn(edit_id)
    print("TIMING", edit_id, _b, _t.time() - _b, flush=True)
    if started is None:
        return
    if started is False:
        # Over the owner's limit of running edits, or an older edit of theirs goes first.
        run_edit.using(run_after=timezone.now() + timedelta(seconds=WAIT_FOR_A_SLOT)).enqueue(
            edit_id
        )
        return
    edit = Edit.objects.get(pk=edit_id)
    try:
        pipeline.perform_edit(edit)
    except Exception:
        logger.exception("edit %s failed unexpectedly", edit_id)
        edit.fail("internal", FAILURE_CODES["internal"])


def _start_in_turn(edit_id: str) -> bool | None:
    """Start the edit if it is its owner's turn: True started, False wait, None nothing to do.

    Fair use: at most GAITU_MAX_ACTIVE_PER_USER of one person's edits run at once, and theirs
    start in the order they were queued: an edit starts when its running edits plus the
    queued ones ahead of it leave a slot. The owner's row is locked (on databases that lock
    rows; SQLite's IMMEDIATE transactions serialise this anyway) so two workers can't both
    take the last slot.

    Starts in this process take turns on a lock of its own: a thread waiting for it goes on
    the moment the one before commits, where SQLite's busy handler would sleep in growing
    steps. A burst of 32 edits took up to 0.45 s to start that way.
    """
    with _STARTING, transaction.atomic():
        edit = Edit.objects.filter(pk=edit_id, status=Edit.Status.QUEUED).first()
        if edit is None:
            return None  # deleted, canceled while it waited, or another worker has it
        get_user_model().objects.select_for_update().filter(pk=edit.owner_id).first()
        mine = Edit.objects.filter(owner_id=edit.owner_id)
        running = mine.filter(status=Edit.Status.RUNNING).count()
        ahead = mine.filter(status=Edit.Status.QUEUED, queued_at__lt=edit.queued_at).count()
        if running + ahead >= settings.GAITU_MAX_ACTIVE_PER_USER:
            return False
        return edit.start(worker=WORKER_ID)


def enqueue_on_commit(edit: Edit) -> None:
    transaction.on_commit(lambda: run_edit.enqueue(str(edit.pk)))


@db_periodic_task(crontab(minute="*"))
def reap_interrupted_edits() -> None:
    recover_interrupted()


def recover_interrupted(*, this_host_at_start: bool = False) -> int:
    """Find running edits whose worker is gone, and queue them again or fail them.

    A worker is gone when its heartbeat stopped (GAITU_HEARTBEAT_TIMEOUT), or, at a worker's
    start, when it ran on this host in a process that no longer exists. An edit whose paid
    generation already finished is queued again to download only; one that had not is
    queued again once, and fails as interrupted the second time.
    """
    stale = timezone.now() - timedelta(seconds=settings.GAITU_HEARTBEAT_TIMEOUT)
    orphans = [
        edit
        for edit in Edit.objects.filter(status=Edit.Status.RUNNING)
        if (edit.heartbeat_at or edit.started_at or edit.created_at) < stale
        or (this_host_at_start and _dead_here(edit.worker))
    ]
    for edit in orphans:
        if edit.result_links or edit.recoveries == 0:
            if edit.transition(
                Edit.Status.QUEUED,
                stage=Edit.Stage.QUEUED,
                queued_at=timezone.now(),
                recoveries=edit.recoveries + 1,
            ):
                logger.warning("edit %s: its worker stopped; queued again", edit.pk)
                enqueue_on_commit(edit)
        elif edit.fail("interrupted", FAILURE_CODES["interrupted"]):
            logger.warning("edit %s: its worker stopped twice; failed", edit.pk)
    return len(orphans)


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
