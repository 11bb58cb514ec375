"""`manage.py worker_alive`: exit 0 while a worker on this host beats, 1 otherwise, for the
worker container's health check. Rows are made by hand here; tests/e2e/test_health_probes.py
runs it beside a real worker."""

import io
import os
import socket
import subprocess
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import timezone

from worker.models import WorkerProcess
from worker.recovery import DEAD_AFTER

HOST = socket.gethostname()


def worker_alive() -> tuple[int, str]:
    """The command's exit status and its one line."""
    out = io.StringIO()
    try:
        call_command("worker_alive", stdout=out)
    except CommandError as problem:
        return problem.returncode, str(problem)
    return 0, out.getvalue().strip()


def beat(name: str, seconds_ago: float) -> WorkerProcess:
    return WorkerProcess.objects.create(
        name=name, beat_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def gone_pid() -> int:
    """The pid of a process that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def test_a_fresh_beat_from_this_host_is_alive(db):
    # This test's own process stands in for the worker: it exists, on this host.
    beat(f"{HOST}:{os.getpid()}", seconds_ago=1)
    status, line = worker_alive()
    assert status == 0, line
    assert line == f"Worker alive on {HOST}: {HOST}:{os.getpid()}."


def test_no_worker_registered(db):
    status, line = worker_alive()
    assert status == 1
    assert line == f"No worker is alive on {HOST}: none has registered."


def test_a_stale_beat_is_not_alive(db):
    beat(f"{HOST}:{os.getpid()}", seconds_ago=DEAD_AFTER + 5)
    status, line = worker_alive()
    assert status == 1
    assert f"No worker is alive on {HOST}: the last beat was" in line
    assert f"gone after {DEAD_AFTER:g} s" in line


def test_a_worker_on_another_host_does_not_count(db):
    beat(f"another-{HOST}:{os.getpid()}", seconds_ago=1)
    beat(f"{HOST}x:{os.getpid()}", seconds_ago=1)  # a longer name that starts with this one
    status, line = worker_alive()
    assert status == 1
    assert line.endswith("none has registered.")


def test_a_fresh_beat_from_a_process_that_has_ended_is_not_alive(db):
    # Killed a moment ago: its last beat is recent, but the process is gone from this host.
    beat(f"{HOST}:{gone_pid()}", seconds_ago=1)
    status, line = worker_alive()
    assert status == 1
    assert line == f"No worker is alive on {HOST}: its process has stopped."


def test_one_live_worker_among_dead_ones_is_enough(db):
    beat(f"{HOST}:{gone_pid()}", seconds_ago=1)
    beat(f"{HOST}:1{os.getpid()}", seconds_ago=DEAD_AFTER + 5)
    beat(f"{HOST}:{os.getpid()}", seconds_ago=1)
    status, line = worker_alive()
    assert status == 0, line
    assert line == f"Worker alive on {HOST}: {HOST}:{os.getpid()}."


def test_an_unreachable_database_is_not_alive(db):
    with mock.patch.object(
        WorkerProcess.objects, "filter", side_effect=OperationalError("connection refused")
    ):
        status, line = worker_alive()
    assert status == 1
    assert line == "Cannot tell: the database did not answer (connection refused)."


@pytest.mark.parametrize("seconds_ago", [0, DEAD_AFTER / 2])
def test_alive_within_dead_after(db, seconds_ago):
    beat(f"{HOST}:{os.getpid()}", seconds_ago=seconds_ago)
    assert worker_alive()[0] == 0
