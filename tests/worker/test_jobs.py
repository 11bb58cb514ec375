"""The Edit's state machine, fair-use starts, and recovery of edits whose worker died."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from editor.models import Edit
from worker import recovery, tasks

S = Edit.Status


@pytest.fixture
def edit(owner):
    return Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")


def make_running(edit: Edit, **fields) -> Edit:
    assert edit.start(worker=fields.pop("worker", "elsewhere:1"))
    Edit.objects.filter(pk=edit.pk).update(**fields)
    edit.refresh_from_db()
    return edit


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        (S.QUEUED, S.RUNNING, True),
        (S.QUEUED, S.CANCELED, True),
        (S.QUEUED, S.SUCCEEDED, False),
        (S.RUNNING, S.SUCCEEDED, True),
        (S.RUNNING, S.QUEUED, True),
        (S.FAILED, S.QUEUED, True),
        (S.FAILED, S.RUNNING, False),
        (S.CANCELED, S.SUCCEEDED, False),
        (S.SUCCEEDED, S.QUEUED, False),
        (S.SUCCEEDED, S.CANCELED, False),
    ],
)
def test_transitions_follow_the_table(edit, start, to, allowed):
    Edit.objects.filter(pk=edit.pk).update(status=start)
    edit.refresh_from_db()
    assert edit.transition(to) is allowed
    edit.refresh_from_db()
    assert edit.status == (to if allowed else start)


def test_a_canceled_edit_is_never_started(edit):
    assert edit.cancel()
    assert not Edit.objects.get(pk=edit.pk).start()


def test_a_late_success_does_not_overwrite_a_cancel(edit):
    worker_copy = Edit.objects.get(pk=edit.pk)
    assert worker_copy.start()
    assert edit.cancel()
    assert not worker_copy.succeed()
    assert Edit.objects.get(pk=edit.pk).status == S.CANCELED


def test_timings_and_attempts_are_recorded(edit):
    make_running(edit)
    edit.report_progress(Edit.Stage.GENERATING, 40)
    edit.report_progress(Edit.Stage.GENERATING, 25)  # a gateway's numbers may go back
    assert edit.succeed()
    edit.refresh_from_db()
    assert edit.attempts == 1
    assert edit.queued_at <= edit.started_at <= edit.first_progress_at <= edit.finished_at
    assert edit.progress == 100


def test_progress_never_goes_backwards(edit):
    make_running(edit)
    edit.report_progress(Edit.Stage.GENERATING, 40)
    edit.report_progress(Edit.Stage.GENERATING, 25)
    assert Edit.objects.get(pk=edit.pk).progress == 40


def test_retry_counts_a_new_attempt(edit):
    make_running(edit)
    edit.fail("timeout", "slow")
    assert edit.requeue()
    assert Edit.objects.get(pk=edit.pk).start()
    assert Edit.objects.get(pk=edit.pk).attempts == 2


class TestFairUse:
    def test_an_owner_at_the_limit_waits(self, owner, settings):
        settings.GAITU_MAX_ACTIVE_PER_USER = 2
        edits = [Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(3)]
        assert tasks._start_in_turn(str(edits[0].pk)) is True
        assert tasks._start_in_turn(str(edits[1].pk)) is True
        assert tasks._start_in_turn(str(edits[2].pk)) is False
        Edit.objects.get(pk=edits[0].pk).fail("x", "y")
        assert tasks._start_in_turn(str(edits[2].pk)) is True

    def test_a_later_edit_does_not_overtake(self, owner, settings):
        settings.GAITU_MAX_ACTIVE_PER_USER = 1
        first, second = (Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(2))
        assert tasks._start_in_turn(str(second.pk)) is False
        assert tasks._start_in_turn(str(first.pk)) is True

    def test_other_people_are_not_held_up(self, owner, stranger, settings):
        settings.GAITU_MAX_ACTIVE_PER_USER = 1
        make_running(Edit.objects.create(owner=owner, instruction="mine"))
        theirs = Edit.objects.create(owner=stranger, instruction="theirs")
        assert tasks._start_in_turn(str(theirs.pk)) is True

    def test_nothing_to_do_for_a_canceled_edit(self, edit):
        edit.cancel()
        assert tasks._start_in_turn(str(edit.pk)) is None


class TestRecovery:
    @pytest.fixture
    def stale(self):
        return timezone.now() - timedelta(minutes=10)

    def test_a_fresh_heartbeat_is_left_alone(self, edit, django_capture_on_commit_callbacks):
        make_running(edit)
        with django_capture_on_commit_callbacks() as enqueued:
            assert recovery.recover_interrupted() == 0
        assert (Edit.objects.get(pk=edit.pk).status, enqueued) == (S.RUNNING, [])

    def test_first_stop_queues_it_again(self, edit, stale, django_capture_on_commit_callbacks):
        make_running(edit, heartbeat_at=stale)
        with django_capture_on_commit_callbacks() as enqueued:
            assert recovery.recover_interrupted() == 1
        edit.refresh_from_db()
        assert (edit.status, edit.recoveries, len(enqueued)) == (S.QUEUED, 1, 1)

    def test_second_stop_fails_it_as_interrupted(self, edit, stale):
        make_running(edit, heartbeat_at=stale, recoveries=1)
        recovery.recover_interrupted()
        edit.refresh_from_db()
        assert (edit.status, edit.error_code) == (S.FAILED, "interrupted")

    def test_a_paid_generation_is_queued_again_to_download_only(self, edit, stale):
        make_running(edit, heartbeat_at=stale, recoveries=3, result_links=["https://x/a.png"])
        recovery.recover_interrupted()
        edit.refresh_from_db()
        assert (edit.status, edit.result_links) == (S.QUEUED, ["https://x/a.png"])

    def test_at_start_a_dead_worker_on_this_host_is_noticed_at_once(self, edit):
        make_running(edit, worker=f"{socket.gethostname()}:999999")
        assert recovery.recover_interrupted() == 0
        assert recovery.recover_interrupted(this_host_at_start=True) == 1
        assert Edit.objects.get(pk=edit.pk).status == S.QUEUED

    def test_a_live_worker_on_this_host_is_left_alone(self, edit):
        make_running(edit, worker=f"{socket.gethostname()}:1")  # pid 1 always exists
        assert recovery.recover_interrupted(this_host_at_start=True) == 0
