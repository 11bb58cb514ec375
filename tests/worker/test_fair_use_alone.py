"""Fair use bites only when others wait: a person alone on the worker has their whole burst run
at once, past GAITU_MAX_ACTIVE_PER_USER; once someone else's edit waits, the cap holds, and the
other person's edit starts before any more of the burst.

Jobs go through the first-in-first-out queue of test_batch_fair_use (the real run_edit, only
the gateway's part left out, so a started edit runs until the test ends it).
"""

import pytest
from django.contrib.auth import get_user_model

from editor import services
from editor.models import Edit
from tests.worker.test_batch_fair_use import Queue, pictures, status_of
from worker import tasks

S = Edit.Status


@pytest.fixture
def queue(monkeypatch):
    return Queue(monkeypatch)


@pytest.fixture(autouse=True)
def default_cap(settings):
    settings.GAITU_MAX_ACTIVE_PER_USER = 4
    settings.GAITU_WORKER_THREADS = 16


def submit(person, count: int, capture) -> list[Edit]:
    with capture(execute=True):
        batch = services.submit_batch(
            person, instruction="warmer", model="gpt-4o-image", uploads=pictures(count)
        )
    return list(batch.edits.order_by("created_at"))


def finish(edit: Edit, capture) -> None:
    """The edit ends as run_edit ends one: it succeeds, and passes its turn on."""
    edit = Edit.objects.get(pk=edit.pk)
    with capture(execute=True):
        assert edit.succeed()
        tasks.start_waiting(edit.owner_id)


def test_a_lone_persons_burst_all_starts_at_once(owner, queue, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    mine = submit(owner, 8, capture)
    queue.work(capture)
    assert status_of(mine) == [S.RUNNING] * 8  # twice the cap of 4: nobody else waits
    assert queue.started == [str(edit.pk) for edit in mine]


def test_with_someone_else_waiting_the_cap_holds(
    owner, stranger, queue, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    theirs = submit(stranger, 5, capture)
    mine = submit(owner, 8, capture)
    queue.work(capture)
    # Each waits for the other's queued edits: both are held to the cap.
    assert status_of(theirs) == [S.RUNNING] * 4 + [S.QUEUED]
    assert status_of(mine) == [S.RUNNING] * 4 + [S.QUEUED] * 4


def test_the_burst_keeps_a_thread_for_the_next_person(
    owner, stranger, queue, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    settings.GAITU_WORKER_THREADS = 6
    mine = submit(owner, 8, capture)
    queue.work(capture)
    assert status_of(mine) == [S.RUNNING] * 5 + [S.QUEUED] * 3  # all threads but one
    theirs = submit(stranger, 1, capture)
    queue.work(capture)
    assert status_of(theirs) == [S.RUNNING]  # on the thread kept free, at once


def test_a_newcomer_goes_before_the_rest_of_the_burst(
    owner, stranger, queue, settings, django_capture_on_commit_callbacks
):
    """All threads taken (the burst's and a second person's), a third person's edit waits for
    a thread; the one that frees is theirs, though the burst has edits waiting too."""
    capture = django_capture_on_commit_callbacks
    settings.GAITU_WORKER_THREADS = 6
    third = get_user_model().objects.create_user("third", password="pw-third-1")
    mine = submit(owner, 8, capture)
    queue.work(capture)
    submit(stranger, 1, capture)
    queue.work(capture)
    assert Edit.objects.filter(status=S.RUNNING).count() == 6  # every thread busy
    # The third person's job waits in the queue for a thread (it is not run yet).
    with capture(execute=True):
        newcomer = services.submit(
            third, instruction="sharper", model="gpt-4o-image", uploads=pictures(1)
        )
    finish(mine[0], capture)  # a thread frees: the burst is over its cap, and someone waits
    queue.work(capture)
    assert Edit.objects.get(pk=newcomer.pk).status == S.RUNNING
    assert status_of(mine[5:]) == [S.QUEUED] * 3
    assert queue.started[-1] == str(newcomer.pk)
    # Nobody else waits any more: the burst's next start as threads free, oldest first.
    finish(mine[1], capture)
    queue.work(capture)
    assert status_of(mine[5:]) == [S.RUNNING, S.QUEUED, S.QUEUED]


def test_next_in_line_passes_the_turn_past_the_cap_only_when_alone(owner, stranger, settings):
    settings.GAITU_MAX_ACTIVE_PER_USER = 1
    mine = [Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(4)]
    assert mine[0].start(worker=tasks.WORKER_ID)
    assert tasks.next_in_line(owner.pk) == [str(edit.pk) for edit in mine[1:]]
    Edit.objects.create(owner=stranger, instruction="theirs")
    assert tasks.next_in_line(owner.pk) == []
