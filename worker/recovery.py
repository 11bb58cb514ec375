"""Edits whose worker stopped: found by their heartbeat, queued again or failed."""

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from editor.models import Edit

from .tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


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
        elif edit.fail("interrupted"):
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
