"""What other rooms may hear about edits, sent once the change is committed.

- edit_ended(edit): an edit reached succeeded, failed or canceled.
- group_ended(group): the last active edit of a batch or a comparison ended.

Webhooks listen here (webhooks/receivers.py); the edit's own code knows nothing of them.
"""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.dispatch import Signal

edit_ended = Signal()
group_ended = Signal()

ENDED = ("succeeded", "failed", "canceled")


def status_changed(edit: Any, status: str) -> None:
    """Called by Edit.transition() after a change it made: the signals, once committed."""
    if status in ENDED:
        transaction.on_commit(lambda: _ended(edit))


def _ended(edit: Any) -> None:
    # An editor.models.Edit, untyped here: this module is imported by the models themselves.
    edit_ended.send(type(edit), edit=edit)
    if edit.group_id is None:
        return
    try:
        group = edit.group
    except ObjectDoesNotExist:  # deleted with the group meanwhile
        return
    # Only the edit that ended last sends it; two ending at the same moment may both see the
    # group ended, so a receiver keys what it does on the group (a webhook's delivery is one
    # per group and event).
    if group is not None and not group.is_active:
        group_ended.send(type(group), group=group)
