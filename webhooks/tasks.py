"""The delivery job, enqueued through django.tasks (huey runs it in the worker). A retry is
the same job with run_after, which huey holds in its schedule until then; the recovery sweep
queues again any whose job was lost (enqueue_overdue)."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from . import delivery
from .models import Delivery

logger = logging.getLogger(__name__)

# A pending delivery this far past its time has lost its job (a worker stopped mid-attempt,
# a queue was emptied): the sweep queues it again.
OVERDUE = timedelta(minutes=2)


@task()
def deliver_webhook(delivery_id: str) -> None:
    sent = delivery.attempt(delivery_id)
    if sent is not None and sent.status == Delivery.Status.PENDING:
        schedule(sent)


def schedule(pending: Delivery) -> None:
    """Its job, queued once this is committed, to run at next_attempt_at."""
    delivery_id = str(pending.pk)
    when = pending.next_attempt_at
    if when is not None and when > timezone.now():
        later = deliver_webhook.using(run_after=when)
        transaction.on_commit(lambda: later.enqueue(delivery_id))
    else:
        transaction.on_commit(lambda: deliver_webhook.enqueue(delivery_id))


def enqueue_overdue(now: datetime | None = None) -> int:
    """Queue again the pending deliveries whose job was lost; how many. For the worker's
    recovery sweep: a delivery's own job normally runs it on time, and one still waiting in
    the queue (every worker thread busy with edits) is left to it."""
    now = now or timezone.now()
    overdue = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lt=now - OVERDUE
    )
    lost = [str(pk) for pk in overdue.values_list("pk", flat=True)]
    if not lost:
        return 0
    waiting = _queued_deliveries()
    lost = [pk for pk in lost if pk not in waiting]
    for pk in lost:
        logger.warning("webhook delivery %s: its job was lost; queued again", pk)
        deliver_webhook.enqueue(pk)
    return len(lost)


def _queued_deliveries() -> set[str]:
    """The deliveries whose jobs wait in the queue (django.tasks jobs reach huey as
    (path, args, kwargs), as worker/recovery.py reads them too)."""
    queued = set()
    for job in HUEY.pending():
        args = getattr(job, "args", None)
        if args and len(args) >= 2 and args[0] == deliver_webhook.module_path and args[1]:
            queued.add(str(args[1][0]))
    return queued
