"""Sending a delivery: the payload, its signature, the POST, and the retries.

A delivery is tried at once, then after each pause of BACKOFF while the answer is not in 2xx
(or none came); after the last it is failed. A refused address fails it at once: the rules
refuse it again next time. Each attempt is signed anew, with its own timestamp, so that a
receiver may refuse old signatures (a replay) however late a retry comes.

Every attempt first claims the delivery (one conditional UPDATE): a job run twice, or a job
and the sweep's, sends it once.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from editor.models import Edit, EditGroup
from gateway.fetch import FetchError, post_json

from .models import Delivery, Webhook

logger = logging.getLogger(__name__)

BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
TIMEOUT = 10.0  # seconds for one attempt, connecting and answering together
# An attempt holds its delivery this long: a worker that stops mid-attempt leaves it for the
# sweep (tasks.enqueue_overdue) to pick up after that, never for two workers to send at once.
HOLD = timedelta(seconds=TIMEOUT * 6)
SIGNATURE_HEADER = "Gaitu-Signature"
MAX_ERROR = 200


# --- Payloads ------------------------------------------------------------------------------


def edit_summary(edit: Edit, origin: str, results: int) -> dict[str, Any]:
    """An edit as a payload tells it: enough to decide whether to fetch it from the API."""
    return {
        "id": str(edit.pk),
        "status": edit.status,
        "model": edit.model,
        "error_code": edit.error_code or None,
        "results": results,
        "group": str(edit.group_id) if edit.group_id else None,
        "url": origin + reverse("api_edit", args=[edit.pk]),
    }


def edit_payload(edit: Edit, origin: str) -> dict[str, Any]:
    return {
        "event": Delivery.Event.EDIT_ENDED.value,
        "created": timezone.now().isoformat(),
        "edit": edit_summary(edit, origin, edit.results.count()),
    }


def group_event(group: EditGroup) -> str:
    if group.kind == EditGroup.Kind.COMPARISON:
        return Delivery.Event.COMPARISON_ENDED.value
    return Delivery.Event.BATCH_ENDED.value


def group_payload(group: EditGroup, origin: str) -> dict[str, Any]:
    edits = group.edits.annotate(result_count=Count("results")).order_by("created_at", "pk")
    return {
        "event": group_event(group),
        "created": timezone.now().isoformat(),
        "group": {
            "id": str(group.pk),
            "kind": group.kind,
            "edits": [edit_summary(edit, origin, edit.result_count) for edit in edits],
        },
    }


# --- Signing -------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Gaitu-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- Sending -------------------------------------------------------------------------------


def queue(webhook: Webhook, event: str, subject: str, payload: dict[str, Any]) -> Delivery | None:
    """A new delivery, due now (tasks.schedule sends it); None if this subject has one."""
    now = timezone.now()
    if Delivery.objects.filter(webhook=webhook, subject=subject).exists():
        return None
    delivery = Delivery(
        webhook=webhook, event=event, subject=subject, payload=payload, next_attempt_at=now
    )
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        # The same subject, queued at this very moment by an edit ending beside this one.
        if Delivery.objects.filter(webhook=webhook, subject=subject).exists():
            return None
        raise
    return delivery


def attempt(delivery_id: str) -> Delivery | None:
    """Send the delivery if it is due and nobody else is sending it; the delivery as it ends
    up (still pending: due again at next_attempt_at), or None when there was nothing to do
    (not due, delivered, failed, deleted)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + HOLD)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    status_code, error, permanent = _send(delivery)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    delivery.last_error = error[:MAX_ERROR]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif permanent or delivery.attempts > len(BACKOFF):
        delivery.status = Delivery.Status.FAILED
        delivery.next_attempt_at = None
        logger.warning("webhook delivery %s failed for good: %s", delivery.pk, delivery.last_error)
    else:
        # Counted from when this attempt began, whatever it took (TIMEOUT at most).
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    fields = {
        name: getattr(delivery, name)
        for name in (
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        )
    }
    # An update, not save(): the webhook may have been deleted while the POST was out.
    if not Delivery.objects.filter(pk=delivery.pk).update(**fields):
        return None
    return delivery


def _send(delivery: Delivery) -> tuple[int | None, str, bool]:
    """One POST: the answer's status (None if none came), what went wrong, and whether trying
    again is pointless."""
    body = body_of(delivery)
    headers = {
        SIGNATURE_HEADER: signature(delivery.webhook.secret, int(time.time()), body),
        "Gaitu-Event": delivery.event,
        "Gaitu-Delivery": str(delivery.pk),
    }
    try:
        status_code = post_json(
            delivery.webhook.url,
            body,
            headers=headers,
            allow_hosts=settings.GAITU_FETCH_ALLOW_HOSTS,
            deadline=TIMEOUT,
        )
    except FetchError as exc:
        # The reason names the address or the socket's trouble, never a header or the secret.
        return None, exc.reason, exc.code == "link_blocked"
    if 200 <= status_code < 300:
        return status_code, "", False
    return status_code, f"HTTP {status_code}", False
