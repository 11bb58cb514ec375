"""`make run` left alone keeps working: the supervisor behind `manage.py serve` starts a dead
web server or worker again, with backoff, while the other keeps serving; Ctrl+C still stops all.

Real processes throughout; no test holds the machine to a time, only to a generous deadline.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress

import pytest

from tests.support.factories import image_bytes
from tests.support.live import ROOT, Gaitu, children, stop, wait_for_edit, wait_until
from webapp import supervisor
from webapp.supervisor import MAX_DELAY, STABLE_SECONDS, deaths_in_a_row, restart_delay

PHOTO = ("p.jpg", image_bytes((96, 64)), "image/jpeg")
RESTARTED = re.compile(r"The (web server|worker) (.+); starting it again (?:in (\d+) s|now)\.")


def submit(client, instruction: str = "blur") -> str:
    response = client.post(
        "/api/v1/edits", data={"instruction": instruction}, files={"image": PHOTO}
    )
    assert response.status_code == 202, response.text
    return response.json()["url"]


def running_with_progress(detail: dict) -> bool:
    return detail["status"] == "running" and (detail["progress"] or 0) > 0


@contextmanager
def serving(gaitu: Gaitu):
    """`manage.py serve`, up; at the end stopped by Ctrl+C and nothing of it left running."""
    serve = gaitu.start("serve")
    try:
        gaitu.wait_until_up(serve)
        yield serve
        assert stop(serve) == 0, gaitu.output()
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        left = gaitu.kill_leftovers()
    assert left == [], f"left running after serve stopped: {left}"


def replaced(serve: subprocess.Popen, role: str, old_pid: int):
    """Waits for `role`'s process under serve to be a new one; returns all of serve's children."""
    return wait_until(
        lambda: (now := children(serve.pid)).get(role) not in (None, old_pid) and now,
        what=f"a new {role} process",
    )


# The backoff schedule, as pure functions.


def test_a_first_death_restarts_at_once_then_the_pause_doubles_up_to_thirty():
    assert [restart_delay(n) for n in range(1, 9)] == [0, 1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(10_000) == MAX_DELAY == 30  # no overflow, however long it goes on


def test_a_child_that_stayed_up_a_while_starts_counting_again():
    assert deaths_in_a_row(0, uptime=0.2) == 1
    assert deaths_in_a_row(5, uptime=0.2) == 6
    assert deaths_in_a_row(5, uptime=STABLE_SECONDS - 1) == 6
    assert deaths_in_a_row(5, uptime=STABLE_SECONDS) == 1
    assert restart_delay(deaths_in_a_row(9, uptime=3600)) == 0


def test_exits_are_described_as_a_person_reads_them():
    assert supervisor.describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert supervisor.describe_exit(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert supervisor.describe_exit(3) == "exited with status 3"
    assert supervisor.describe_exit(0) == "exited with status 0"


# The supervisor with stand-in children: one that cannot start, one that serves.


def start_supervisor(log_path, commands: dict[str, list[str]]) -> subprocess.Popen:
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "webapp.supervisor", json.dumps(commands)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@contextmanager
def killed_at_the_end(proc: subprocess.Popen):
    try:
        yield proc
    finally:
        for pid in [*children(proc.pid).values(), proc.pid]:
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        proc.wait()


def test_a_child_that_cannot_start_is_retried_with_growing_pauses(tmp_path):
    log = tmp_path / "supervisor.log"
    # Stand-ins: a web server that exits at once every time, a worker that just waits.
    commands = {
        "web": [sys.executable, "-c", "import sys; sys.exit(3)"],
        "worker": [sys.executable, "-c", "import time; time.sleep(600)", "run_worker"],
    }
    with killed_at_the_end(start_supervisor(log, commands)) as proc:
        worker = wait_until(lambda: children(proc.pid).get("worker"), what="the worker")
        wait_until(lambda: "starting it again in 2 s" in log.read_text(), what="third restart")
        assert children(proc.pid).get("worker") == worker  # served throughout
        assert stop(proc, signal.SIGTERM, timeout=30) == 0
    text = log.read_text()
    restarts = list(RESTARTED.finditer(text))
    assert [int(m[3] or 0) for m in restarts][:3] == [0, 1, 2], text
    assert {(m[1], m[2]) for m in restarts} == {("web server", "stopped (exited with status 3)")}
    assert "Starting the web server again." in text
    with pytest.raises(ProcessLookupError):
        os.killpg(worker, 0)  # stopped with the rest


def test_a_child_whose_program_does_not_exist_is_retried_too(tmp_path):
    log = tmp_path / "supervisor.log"
    with killed_at_the_end(start_supervisor(log, {"web": [str(tmp_path / "nothing")]})) as proc:
        wait_until(lambda: "starting it again in 2 s" in log.read_text(), what="second try")
        assert stop(proc, timeout=30) == 0
    assert "The web server could not be started (" in log.read_text()


# The real thing: `manage.py serve` as `make run` starts it.


def test_a_killed_worker_is_started_again_and_edits_go_on(tmp_path):
    gaitu = Gaitu(tmp_path, GAITU_DEMO_LATENCY="3")
    with serving(gaitu) as serve:
        client = gaitu.api()
        interrupted = submit(client)
        wait_for_edit(client, interrupted, until=running_with_progress)
        before = children(serve.pid)

        os.kill(before["worker"], signal.SIGKILL)
        submitted_meanwhile = submit(client, "mirror")  # the web server still answers
        after = replaced(serve, "worker", before["worker"])

        assert after["web"] == before["web"]
        assert wait_for_edit(client, submitted_meanwhile)["status"] == "succeeded"
        assert wait_for_edit(client, submit(client, "sepia"))["status"] == "succeeded"
        # The edit the dead worker was running is taken up again by the new one.
        assert wait_for_edit(client, interrupted)["status"] == "succeeded"
    output = gaitu.output()
    assert "The worker stopped (killed by SIGKILL); starting it again now." in output


def test_a_killed_web_server_comes_back_while_the_worker_goes_on(tmp_path):
    gaitu = Gaitu(tmp_path, GAITU_DEMO_LATENCY="3")
    with serving(gaitu) as serve:
        client = gaitu.api()
        url = submit(client)
        wait_for_edit(client, url, until=running_with_progress)
        before = children(serve.pid)

        killed = time.monotonic()
        os.kill(before["web"], signal.SIGKILL)
        after = replaced(serve, "web", before["web"])
        gaitu.wait_until_up(serve, timeout=60)
        down = time.monotonic() - killed
        sys.stdout.write(f"\nThe site did not answer for {down:.2f} s after uvicorn's SIGKILL.\n")

        assert after["worker"] == before["worker"]  # never stopped
        assert children(serve.pid)["worker"] == before["worker"]
        detail = wait_for_edit(client, url)
        assert detail["status"] == "succeeded", detail
        assert wait_for_edit(client, submit(client, "mirror"))["status"] == "succeeded"
    output = gaitu.output()
    assert "The web server stopped (killed by SIGKILL); starting it again now." in output
    assert "Recovered" not in output  # the running edit was never interrupted


def test_ctrl_c_stops_both_children_and_the_supervisor(tmp_path):
    gaitu = Gaitu(tmp_path)
    serve = gaitu.start("serve")
    try:
        gaitu.wait_until_up(serve)
        running = wait_until(lambda: (now := children(serve.pid)).keys() >= {"web", "worker"}
                             and now, what="both children")  # fmt: skip
        assert stop(serve, signal.SIGINT) == 0
        for pid in running.values():
            with pytest.raises(ProcessLookupError):
                os.killpg(pid, 0)  # nothing left of either, nor of anything they started
        assert gaitu.processes() == []
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        gaitu.kill_leftovers()
    assert "Stopping…" in gaitu.output()
    assert "starting it again" not in gaitu.output()
