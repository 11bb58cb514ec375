"""The worker's one watching thread (worker/watch.py): heartbeats and cancels for every edit
in flight in the process, in rounds of queries, and no thread while nothing runs.

Transactional: the watch looks at the edits on a connection of its own, which sees only what
is committed."""

import threading
from contextlib import ExitStack
from datetime import timedelta

import httpx
import pytest
from django.db.models import F
from django.utils import timezone

from editor.models import Edit
from gateway.failures import GatewayFailure
from tests.support.live import wait_until
from worker import watch
from worker.watch import EditWatch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(EditWatch, "INTERVAL", 0.05)
    monkeypatch.setattr(EditWatch, "HEARTBEAT_EVERY", 0.05)
    monkeypatch.setattr(watch, "ROUND", 3)  # a few edits are looked at in several rounds
    yield
    wait_until(lambda: not watching_threads(), what="the watch gone with the last edit")


def running_edits(owner, count: int) -> list[Edit]:
    edits = []
    for n in range(count):
        edit = Edit.objects.create(owner=owner, instruction=f"edit {n}", model="gpt-4o-image")
        assert edit.start(worker="test:1")
        edits.append(edit)
    return edits


def watching_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "edit-watch"]


def test_one_thread_beats_for_every_edit_in_flight_and_goes_when_none_runs(owner):
    edits = running_edits(owner, 8)
    stale = timezone.now() - timedelta(minutes=5)
    with ExitStack() as stack:
        watches = [stack.enter_context(EditWatch(edit, httpx.Client())) for edit in edits]
        assert len(watching_threads()) == 1
        Edit.objects.update(heartbeat_at=stale)
        wait_until(
            lambda: not Edit.objects.filter(heartbeat_at__lte=stale).exists(),
            what="every edit's heartbeat, the last round's too",
        )
        assert not any(each.canceled for each in watches)
    wait_until(lambda: not watching_threads(), what="no thread while nothing runs")

    # The next edit brings it back.
    Edit.objects.update(heartbeat_at=stale)
    with EditWatch(edits[0], httpx.Client()):
        assert len(watching_threads()) == 1
        wait_until(lambda: Edit.objects.get(pk=edits[0].pk).heartbeat_at > stale, what="a beat")
    # Finished edits are not beaten for.
    assert Edit.objects.filter(heartbeat_at__lte=stale).count() == 7


def test_a_run_that_is_over_alone_is_stopped_its_clients_closed(owner):
    edits = running_edits(owner, 7)
    clients = [httpx.Client() for _ in edits]
    with ExitStack() as stack:
        watches = [
            stack.enter_context(EditWatch(e, c)) for e, c in zip(edits, clients, strict=True)
        ]
        side_by_side = watches[0].open_client()
        assert edits[0].cancel()
        # Taken up again elsewhere, its worker seeming gone: the same row, a later attempt.
        Edit.objects.filter(pk=edits[3].pk).update(attempts=F("attempts") + 1)
        Edit.objects.filter(pk=edits[6].pk).delete()  # in the last round
        over = {0, 3, 6}
        wait_until(lambda: all(watches[n].canceled for n in over), what="the three stopped")

        assert clients[0].is_closed and side_by_side.is_closed
        assert clients[3].is_closed and clients[6].is_closed
        going = [n for n in range(7) if n not in over]
        assert not any(watches[n].canceled or clients[n].is_closed for n in going)
        with pytest.raises(GatewayFailure):
            watches[0].stop_if_canceled()
        # A wait between attempts ends with the run, not after its minute.
        ended = threading.Event()

        def wait_between_attempts() -> None:
            with pytest.raises(GatewayFailure):
                watches[0].sleep(60)
            ended.set()

        threading.Thread(target=wait_between_attempts, daemon=True).start()
        assert ended.wait(timeout=30)
        assert watches[0].open_client().is_closed  # one asked for after the cancel, too


def test_a_look_that_fails_does_not_end_the_watch(owner, monkeypatch, caplog):
    """Every edit in the process depends on the one thread: an unexpected error in one look
    is logged, and the next look still beats and still notices a cancel."""
    edits = running_edits(owner, 2)
    failing = {"left": 2}
    real_look = watch.Watch._look

    def look(self, watches, beat):
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("a look went wrong")
        return real_look(self, watches, beat)

    monkeypatch.setattr(watch.Watch, "_look", look)
    with EditWatch(edits[0], httpx.Client()) as first, EditWatch(edits[1], httpx.Client()):
        assert edits[0].cancel()
        wait_until(lambda: first.canceled, what="the cancel noticed after the failed looks")
    assert failing["left"] == 0
    assert "a look failed" in caplog.text
