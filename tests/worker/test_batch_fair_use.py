"""Fair use across batches: a person's batch queues as their single edits do, so it takes at
most their share of the worker (GAITU_MAX_ACTIVE_PER_USER) while others wait, and never holds
up anyone else.

The queue here is a list the jobs go into in the order they are enqueued, and a worker takes
them from its front one at a time, as huey's workers do. Each job is the real run_edit: its
turn is checked as in production (worker/tasks.py); only the gateway's part is left out, so
an edit that starts stays running until the test finishes it.
"""

from types import SimpleNamespace

import pytest

from editor import services
from editor.models import Edit
from imaging import inspect_upload
from tests.support.factories import image_bytes, upload
from worker import tasks

S = Edit.Status


class Queue:
    """The job queue, first in first out; what started, in the order it did."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.jobs: list[str] = []
        self.started: list[str] = []
        self.run_edit = tasks.run_edit.func  # the job itself, as a worker calls it
        monkeypatch.setattr(
            tasks,
            "run_edit",
            SimpleNamespace(module_path=tasks.run_edit.module_path, enqueue=self.jobs.append),
        )
        # The gateway's part: the edit runs, and goes on running until the test ends it.
        monkeypatch.setattr(tasks, "perform_edit", lambda edit: self.started.append(str(edit.pk)))

    def work(self, capture) -> None:
        """Run every job in the queue, and those the jobs enqueue, front first."""
        while self.jobs:
            job = self.jobs.pop(0)
            with capture(execute=True):  # what a job's commit enqueues goes to the back
                self.run_edit(job)


@pytest.fixture
def queue(monkeypatch):
    return Queue(monkeypatch)


@pytest.fixture(autouse=True)
def two_at_a_time(settings):
    settings.GAITU_MAX_ACTIVE_PER_USER = 2


def pictures(count: int) -> list:
    uploads = []
    for n in range(count):
        picture = upload(f"{n}.png", image_bytes((32, 24), "PNG"), "image/png")
        uploads.append((picture, inspect_upload(picture, max_bytes=2**24, max_pixels=2**24)))
        picture.seek(0)
    return uploads


def status_of(edits) -> list[str]:
    return [Edit.objects.get(pk=edit.pk).status for edit in edits]


def test_a_batch_never_holds_up_another_persons_edit(
    owner, stranger, queue, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        batch = services.submit_batch(
            owner, instruction="warmer light", model="gpt-4o-image", uploads=pictures(6)
        )
    with capture(execute=True):
        theirs = services.submit(
            stranger, instruction="sharper", model="gpt-4o-image", uploads=pictures(1)
        )
    mine = list(batch.edits.order_by("created_at"))
    assert queue.jobs == [*(str(edit.pk) for edit in mine), str(theirs.pk)]  # B's job is last

    queue.work(capture)
    # Two of the batch run; the other four wait their owner's turn, costing nothing; B's edit,
    # queued after all six, has started all the same.
    assert status_of(mine) == [S.RUNNING] * 2 + [S.QUEUED] * 4
    assert Edit.objects.get(pk=theirs.pk).status == S.RUNNING
    assert queue.started == [str(mine[0].pk), str(mine[1].pk), str(theirs.pk)]

    # Once B's edit has started nobody else waits, so the batch's first to finish hands the
    # turn to all four of its own at once, in the order they were queued.
    with capture(execute=True):
        assert Edit.objects.get(pk=mine[0].pk).succeed()
        tasks.start_waiting(owner.pk)
    queue.work(capture)
    assert status_of(mine) == [S.SUCCEEDED] + [S.RUNNING] * 5
    assert queue.started[3:] == [str(edit.pk) for edit in mine[2:]]


def test_the_batch_keeps_to_its_share_while_others_wait(
    owner, stranger, queue, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        batch = services.submit_batch(
            owner, instruction="warmer light", model="gpt-4o-image", uploads=pictures(6)
        )
        theirs = services.submit_batch(
            stranger, instruction="sharper", model="gpt-4o-image", uploads=pictures(3)
        )
    queue.work(capture)
    mine = list(batch.edits.order_by("created_at"))
    waiting = theirs.edits.filter(status=S.QUEUED)
    # As the batch's edits finish while B's third waits, the next of its own take their
    # turn two at a time; B's third gets B's next slot.
    for finishing in range(2):
        assert waiting.exists()
        with capture(execute=True):
            assert Edit.objects.get(pk=mine[finishing].pk).succeed()
            tasks.start_waiting(owner.pk)
        queue.work(capture)
        assert Edit.objects.filter(owner=owner, status=S.RUNNING).count() == 2
    assert status_of(mine) == [S.SUCCEEDED] * 2 + [S.RUNNING] * 2 + [S.QUEUED] * 2


def test_fair_use_counts_all_of_a_persons_batches_together(
    owner, stranger, queue, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        first = services.submit_batch(
            owner, instruction="one", model="gpt-4o-image", uploads=pictures(3)
        )
        second = services.submit_batch(
            owner, instruction="two", model="gpt-4o-image", uploads=pictures(3)
        )
        theirs = services.submit_batch(
            stranger, instruction="three", model="gpt-4o-image", uploads=pictures(3)
        )
    queue.work(capture)
    running = Edit.objects.filter(status=S.RUNNING)
    assert running.filter(owner=owner).count() == 2  # two batches, still two at a time
    assert set(running.filter(owner=owner).values_list("group", flat=True)) == {first.pk}
    assert not second.edits.exclude(status=S.QUEUED).exists()  # the later batch waits behind
    assert running.filter(owner=stranger, group=theirs).count() == 2  # B has their own two
