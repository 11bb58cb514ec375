"""The edit job, enqueued through django.tasks (huey runs it in the worker), and its turn."""

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

from editor.models import Edit

from .run import perform_edit

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
WAIT_FOR_A_SLOT = 0.5  # seconds before an edit over its owner's limit asks again
_STARTING = threading.Lock()


@task()
def run_edit(edit_id: str) -> None:
    started = _start_in_turn(edit_id)
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
        perform_edit(edit)
    except Exception:
        logger.exception("edit %s failed unexpectedly", edit_id)
        edit.fail("internal")


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
