"""The Edit's state machine, fair-use starts, and recovery of edits whose worker died."""

import socket
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from editor.models import Edit
from worker import recovery, tasks
from worker.models import Sweep, WorkerProcess

S = Edit.Status


@pytest.fixture
def edit(owner):
    return Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")


@pytest.fixture
def someone_waits(stranger):
    """Another person's edit, queued: the cap bites only then (a person alone runs past it)."""
    return Edit.objects.create(owner=stranger, instruction="theirs, waiting")


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
    def test_an_owner_at_the_limit_waits(self, owner, settings, someone_waits):
        settings.GAITU_MAX_ACTIVE_PER_USER = 2
        edits = [Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(3)]
        assert tasks._start_in_turn(str(edits[0].pk)) is True
        assert tasks._start_in_turn(str(edits[1].pk)) is True
        assert tasks._start_in_turn(str(edits[2].pk)) is False
        Edit.objects.get(pk=edits[0].pk).fail("x", "y")
        assert tasks._start_in_turn(str(edits[2].pk)) is True

    def test_a_later_edit_does_not_overtake(self, owner, settings, someone_waits):
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
        assert tasks._start_in_turn(str(edit.pk)) is False


class TestRecovery:
    @pytest.fixture(autouse=True)
    def live_worker(self, db):
        """The worker the edits below run in, beating as a live one does."""
        return WorkerProcess.objects.create(name="elsewhere:1")

    @pytest.fixture
    def stale(self):
        return timezone.now() - timedelta(minutes=10)

    def test_a_live_workers_edit_is_left_alone(self, edit, django_capture_on_commit_callbacks):
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

    def test_a_worker_whose_beats_stopped_is_gone_in_seconds(self, edit, live_worker):
        make_running(edit)  # its own heartbeat is fresh: the worker's beat tells
        quiet = timezone.now() - timedelta(seconds=recovery.DEAD_AFTER + 1)
        WorkerProcess.objects.filter(pk=live_worker.pk).update(beat_at=quiet)
        assert recovery.recover_interrupted() == 1
        assert Edit.objects.get(pk=edit.pk).status == S.QUEUED
        assert not WorkerProcess.objects.exists()  # the gone worker's row goes too

    def test_an_unknown_worker_is_gone(self, edit):
        make_running(edit, worker="never-registered:7")
        assert recovery.recover_interrupted() == 1

    def test_a_dead_process_on_this_host_is_noticed_at_once(self, edit):
        name = f"{socket.gethostname()}:999999"
        WorkerProcess.objects.create(name=name)  # it beat a moment ago, then was killed
        make_running(edit, worker=name)
        assert recovery.recover_interrupted() == 1
        assert Edit.objects.get(pk=edit.pk).status == S.QUEUED

    def test_a_live_process_on_this_host_is_left_alone(self, edit):
        name = f"{socket.gethostname()}:1"  # pid 1 always exists
        WorkerProcess.objects.create(name=name)
        make_running(edit, worker=name)
        assert recovery.recover_interrupted() == 0

    def test_a_late_sweep_leaves_an_edit_taken_up_and_started_again_since(self, edit, stale):
        """Two sweeps at once (workers starting on two hosts): the second read the edit
        before the first took it up and a worker started it again; it leaves that run be."""
        make_running(edit, heartbeat_at=stale)
        read_by_the_late_sweep = Edit.objects.get(pk=edit.pk)
        assert recovery.recover_interrupted() == 1  # the first sweep
        assert Edit.objects.get(pk=edit.pk).start(worker="elsewhere:1")
        recovery._take_up(read_by_the_late_sweep)
        edit.refresh_from_db()
        assert (edit.status, edit.worker, edit.attempts, edit.recoveries) == (
            S.RUNNING, "elsewhere:1", 2, 1
        )  # fmt: skip

    def test_one_sweep_per_interval_whatever_the_number_of_workers(self, db):
        assert recovery.take_turn_to_sweep() is True
        assert [recovery.take_turn_to_sweep() for _ in range(5)] == [False] * 5
        Sweep.objects.update(swept_at=timezone.now() - timedelta(seconds=recovery.SWEEP_EVERY))
        assert recovery.take_turn_to_sweep() is True


class TestTurns:
    """A waiting edit costs no queue churn: its turn is passed on, or found by the sweep."""

    @pytest.fixture
    def started(self, monkeypatch):
        started: list[str] = []
        fake = SimpleNamespace(module_path=tasks.run_edit.module_path, enqueue=started.append)
        monkeypatch.setattr(tasks, "run_edit", fake)
        monkeypatch.setattr(recovery, "run_edit", fake)
        return started

    def settle(self, *edits: Edit) -> None:
        """Queued long enough that a job for them would have been taken by now."""
        long_ago = timezone.now() - timedelta(seconds=recovery.JOB_IN_HAND + 1)
        Edit.objects.filter(pk__in=[e.pk for e in edits]).update(queued_at=long_ago)

    def test_the_oldest_waiting_edits_get_the_free_slots(self, owner, settings, someone_waits):
        settings.GAITU_MAX_ACTIVE_PER_USER = 2
        edits = [Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(4)]
        make_running(edits[0])
        assert tasks.next_in_line(owner.pk) == [str(edits[1].pk)]

    def test_a_finished_edit_passes_its_turn_on(
        self, owner, settings, started, someone_waits, django_capture_on_commit_callbacks
    ):
        settings.GAITU_MAX_ACTIVE_PER_USER = 1
        first, second = (Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(2))
        make_running(first)
        assert tasks._start_in_turn(str(second.pk)) is False  # its job ends here
        first.fail("timeout")
        with django_capture_on_commit_callbacks(execute=True):
            tasks.start_waiting(owner.pk)
        assert started == [str(second.pk)]

    def test_canceling_a_waiting_edit_gives_the_next_its_turn(
        self, owner, settings, started, django_capture_on_commit_callbacks
    ):
        from editor import services

        settings.GAITU_MAX_ACTIVE_PER_USER = 1
        ahead, behind = (Edit.objects.create(owner=owner, instruction=f"{n}") for n in range(2))
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel(ahead)
        assert started == [str(behind.pk)]

    def test_the_sweep_starts_a_turn_nobody_passed_on(
        self, owner, settings, someone_waits, started
    ):
        settings.GAITU_MAX_ACTIVE_PER_USER = 1
        lost = Edit.objects.create(owner=owner, instruction="its job died with its worker")
        waiting = Edit.objects.create(owner=owner, instruction="not its turn yet")
        self.settle(lost, waiting)
        assert recovery.start_lost_turns() == 1
        assert started == [str(lost.pk)]

    def test_the_sweep_leaves_an_edit_whose_job_waits_in_the_queue(
        self, owner, started, monkeypatch
    ):
        queued = Edit.objects.create(owner=owner, instruction="its job is in the queue")
        self.settle(queued)
        job = SimpleNamespace(args=(tasks.run_edit.module_path, [str(queued.pk)], {}))
        monkeypatch.setattr(recovery, "HUEY", SimpleNamespace(pending=lambda: [job]))
        assert recovery.start_lost_turns() == 0
        assert started == []

    def test_a_just_queued_edit_is_left_to_its_job(self, owner, started):
        Edit.objects.create(owner=owner, instruction="its job is being taken right now")
        assert recovery.start_lost_turns() == 0


def test_the_queue_keeps_no_result_of_a_finished_job(owner_client, run_jobs):
    from huey.contrib.djhuey import HUEY

    from tests.support.factories import upload

    with run_jobs():
        owner_client.post("/", {"instruction": "blur", "images": [upload()]})
    assert Edit.objects.get().status == S.SUCCEEDED
    assert HUEY.all_results() == {}
