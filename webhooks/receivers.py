"""What the webhooks hear from the editor (editor/events.py): each ended edit that came through
an API token with webhooks, and each ended group with such an edit, becomes deliveries.

These run in whatever process ended the edit (a worker, or the web server for a cancel), after
it committed; a failure here is logged and never reaches the edit's own code.
"""

import logging
from typing import Any

from editor.models import Edit, EditGroup

from . import delivery, tasks
from .models import Delivery, Webhook

logger = logging.getLogger(__name__)


def edit_ended(sender: object, edit: Edit, **kwargs: Any) -> None:
    if edit.api_token_id is None:  # started in the studio: nobody registered for it
        return
    try:
        _queue_edit(edit)
    except Exception:
        logger.exception("webhooks for edit %s could not be queued", edit.pk)


def group_ended(sender: object, group: EditGroup, **kwargs: Any) -> None:
    try:
        _queue_group(group)
    except Exception:
        logger.exception("webhooks for group %s could not be queued", group.pk)


def _queue_edit(edit: Edit) -> None:
    webhooks = list(Webhook.objects.filter(token_id=edit.api_token_id))
    if not webhooks:
        return
    # Once per ending: a retried edit ends again, at another time, and is told again.
    ended = edit.finished_at.isoformat() if edit.finished_at else f"attempt {edit.attempts}"
    subject = f"edit:{edit.pk}:{ended}"
    payloads: dict[str, dict[str, Any]] = {}
    for webhook in webhooks:
        if webhook.origin not in payloads:
            payloads[webhook.origin] = delivery.edit_payload(edit, webhook.origin)
        event = Delivery.Event.EDIT_ENDED.value
        _send(delivery.queue(webhook, event, subject, payloads[webhook.origin]))


def _queue_group(group: EditGroup) -> None:
    tokens = group.edits.exclude(api_token=None).values_list("api_token", flat=True)
    webhooks = list(Webhook.objects.filter(token_id__in=tokens.distinct()))
    if not webhooks:
        return
    event = delivery.group_event(group)
    payloads: dict[str, dict[str, Any]] = {}
    for webhook in webhooks:
        if webhook.origin not in payloads:
            payloads[webhook.origin] = delivery.group_payload(group, webhook.origin)
        _send(delivery.queue(webhook, event, f"group:{group.pk}", payloads[webhook.origin]))


def _send(queued: Delivery | None) -> None:
    if queued is not None:  # None: this end was heard before
        tasks.schedule(queued)
