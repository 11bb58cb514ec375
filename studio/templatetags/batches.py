"""Where a batch stands, counted from its edits (prefetched with the group: no query here)."""

from dataclasses import dataclass

from django import template

from editor.models import Edit, EditGroup

register = template.Library()


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int
    failed: int
    canceled: int
    running: int
    waiting: int
    # The failed and canceled edits that Retry is offered for (Edit.can_retry).
    retryable: int
    with_result: int
    running_ids: tuple[str, ...]

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.canceled

    @property
    def is_active(self) -> bool:
        return bool(self.running_ids)


def progress_of(group: EditGroup) -> BatchProgress:
    edits = list(group.edits.all())
    statuses = [edit.status for edit in edits]
    return BatchProgress(
        total=len(edits),
        done=statuses.count(Edit.Status.SUCCEEDED),
        failed=statuses.count(Edit.Status.FAILED),
        canceled=statuses.count(Edit.Status.CANCELED),
        running=statuses.count(Edit.Status.RUNNING),
        waiting=statuses.count(Edit.Status.QUEUED),
        retryable=sum(edit.can_retry for edit in edits),
        with_result=sum(bool(edit.results.all()) for edit in edits),
        running_ids=tuple(str(edit.pk) for edit in edits if edit.is_active),
    )


@register.simple_tag
def batch_progress(group: EditGroup) -> BatchProgress:
    """`{% batch_progress group as progress %}`: the counts a batch's card and page show."""
    return progress_of(group)
