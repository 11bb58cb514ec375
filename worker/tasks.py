"""The edit job, enqueued through django.tasks (huey runs it in the worker), and its turn."""

import contextlib
import logging
import os
import socket
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.tasks import task

from editor.models import Edit

from .connections import in_edit_thread
from .run import perform_edit

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_STARTING = threading.Lock()


@task()
def run_edit(edit_id: str) -> None:
    """Run the edit if it is its owner's turn.

    An edit whose turn has not come ends its job here, costing nothing while it waits: the
    edit that frees its slot starts it (start_waiting), and the recovery sweep starts any
    whose turn came while nobody was there to pass it on (a worker that died).
    """
    in_edit_thread()  # before its first query: this thread's connection keeps a small cache
    if not _start_in_turn(edit_id):
        return
    edit = Edit.objects.get(pk=edit_id)
    try:
        perform_edit(edit)
    except Exception:
        logger.exception("edit %s failed unexpectedly", edit_id)
        edit.fail("internal")
    finally:
        start_waiting(edit.owner_id)


def _start_in_turn(edit_id: str) -> bool:
    """Start the edit if it is its owner's turn; False if it must wait or has nothing to do.

    Fair use: while others' edits wait, at most GAITU_MAX_ACTIVE_PER_USER of one person's
    edits run at once, and theirs start in the order they were queued: an edit starts when its
    running edits plus the queued ones ahead of it leave a slot. The cap only bites when someone
    else waits, though: a person alone on the worker has their burst run at once (_alone). The
    owner's row is locked (on databases that lock rows; SQLite's IMMEDIATE transactions
    serialise this anyway) so two workers can't both take the last slot.

    On SQLite, starts in this process take turns on a lock of its own: a thread waiting for it
    goes on the moment the one before commits, where SQLite's busy handler would sleep in
    growing steps (a burst of 32 edits took up to 0.45 s to start that way). PostgreSQL locks
    the owner's row alone, so different people's edits start side by side.
    """
    one_at_a_time = _STARTING if connection.vendor == "sqlite" else contextlib.nullcontext()
    with one_at_a_time, transaction.atomic():
        edit = Edit.objects.filter(pk=edit_id, status=Edit.Status.QUEUED).first()
        if edit is None:
            return False  # deleted, canceled while it waited, or another worker has it
        get_user_model().objects.select_for_update().filter(pk=edit.owner_id).first()
        mine = Edit.objects.filter(owner_id=edit.owner_id)
        running = mine.filter(status=Edit.Status.RUNNING).count()
        ahead = mine.filter(status=Edit.Status.QUEUED, queued_at__lt=edit.queued_at).count()
        if (
            running + ahead >= settings.GAITU_MAX_ACTIVE_PER_USER
            and _spare_threads(edit.owner_id) <= 0
        ):
            return False
        return edit.start(worker=WORKER_ID)


def _spare_threads(owner_id: int) -> int:
    """How many of the owner's edits beyond the cap may start now in this worker: none while
    anyone else's edit is queued, else the threads free here but one.

    Someone else's queued edit is waiting for its turn or for a thread: either way, it goes
    before the edits of one who already has their share running. The thread kept free is for
    the next person's first edit, which then starts at once instead of after one of the burst;
    when a thread frees while both wait, the other person's job is the older in the queue (the
    burst's held edits are queued again only once one of them ends: start_waiting), and this
    check holds back any of the burst's that comes first.
    """
    others_wait = Edit.objects.filter(status=Edit.Status.QUEUED).exclude(owner_id=owner_id).exists()
    if others_wait:
        return 0
    running_here = Edit.objects.filter(status=Edit.Status.RUNNING, worker=WORKER_ID).count()
    return settings.GAITU_WORKER_THREADS - 1 - running_here


def next_in_line(owner_id: int) -> list[str]:
    """The owner's queued edits whose turn has come, the oldest first: as many as free slots
    under the cap, or, while nobody else's edit waits, as many as this worker has spare
    threads (_spare_threads)."""
    mine = Edit.objects.filter(owner_id=owner_id)
    under_cap = settings.GAITU_MAX_ACTIVE_PER_USER - mine.filter(status=Edit.Status.RUNNING).count()
    free = max(under_cap, _spare_threads(owner_id))
    if free <= 0:
        return []
    queued = mine.filter(status=Edit.Status.QUEUED).order_by("queued_at", "created_at")
    return [str(pk) for pk in queued.values_list("pk", flat=True)[:free]]


def start_waiting(owner_id: int) -> None:
    """Give the owner's waiting edits their turn, once what freed a slot is committed.

    Two finishing at once may both send the same edit: harmless, as only one job can start it.
    """
    transaction.on_commit(lambda: [run_edit.enqueue(pk) for pk in next_in_line(owner_id)])


def enqueue_on_commit(edit: Edit) -> None:
    transaction.on_commit(lambda: run_edit.enqueue(str(edit.pk)))
