"""Keeps the web server and the worker running: starts each again when it dies, stops them together.

`manage.py serve` hands over to this (exec) once it has said where Gaitu runs. It imports no
Django: a process that only waits should not hold the 60 MB that Django's imports take.
Usage: python -m webapp.supervisor '{"web": [...], "worker": [...]}'

A child that dies (a crash, the OOM killer, a SIGKILL) is started again at once; one that
keeps dying waits a pause that doubles with each death in a row (1 s, 2 s, 4 s … up to 30 s),
and counts afresh once the child has stayed up for a minute; the other child keeps serving
meanwhile. Ctrl+C (SIGINT), SIGTERM or a closed terminal (SIGHUP) stop both, letting running
edits finish.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from contextlib import suppress
from types import FrameType

GRACE_SECONDS = 20
# How each child is asked to stop so that it finishes what it is doing: uvicorn finishes
# its requests on SIGTERM, huey its running jobs on SIGINT.
STOP_SIGNALS = {"web": signal.SIGTERM, "worker": signal.SIGINT}
LABELS = {"web": "web server", "worker": "worker"}

FIRST_DELAY = 1.0  # seconds before the second restart in a row (the first is at once)
MAX_DELAY = 30.0  # the pause never grows beyond this
STABLE_SECONDS = 60.0  # up this long, a child's next death counts as the first in a row
# Nothing is due: wake now and then anyway, so that nothing hangs on a missed wake-up.
IDLE_WAKE_SECONDS = 5.0


def restart_delay(deaths_in_a_row: int) -> float:
    """Seconds to wait before starting a child again after its nth death in a row (n >= 1).

    A child that dies once (a crash, the OOM killer) is started again at once: the site is
    back in the time uvicorn takes to start. Only one that keeps dying waits, longer each time.
    """
    if deaths_in_a_row <= 1:
        return 0.0
    exponent = min(deaths_in_a_row - 2, 16)  # 2**16 s is far past the cap anyway
    return min(FIRST_DELAY * (1 << exponent), MAX_DELAY)


def deaths_in_a_row(previous: int, uptime: float) -> int:
    """The count after a child that had stayed up `uptime` seconds died."""
    return 1 if uptime >= STABLE_SECONDS else previous + 1


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with status {returncode}"


def _say(line: str) -> None:
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()


class Child:
    """One supervised command: its process while it runs, and when to start it again if not."""

    def __init__(self, name: str, command: list[str]):
        self.name = name
        self.label = LABELS.get(name, name)
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.deaths = 0  # in a row, see deaths_in_a_row()
        self.start_at: float | None = time.monotonic()  # when to start it, if not running

    def start(self) -> None:
        self.start_at = None
        self.started_at = time.monotonic()
        try:
            # Own session and process group: Ctrl+C reaches the supervisor only, which then
            # stops each child the way that lets it finish.
            self.proc = subprocess.Popen(self.command, start_new_session=True)  # noqa: S603
        except (OSError, subprocess.SubprocessError) as error:
            self.proc = None
            self._schedule_restart(f"could not be started ({error})")

    def check(self) -> None:
        """If the child has died, say so and schedule its restart."""
        if self.proc is None or self.proc.poll() is None:
            return
        pid, returncode = self.proc.pid, self.proc.returncode
        self.proc = None
        # Whatever it left behind in its process group would hold its port or its files.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        self._schedule_restart(f"stopped ({describe_exit(returncode)})")

    def _schedule_restart(self, what_happened: str) -> None:
        self.deaths = deaths_in_a_row(self.deaths, time.monotonic() - self.started_at)
        delay = restart_delay(self.deaths)
        self.start_at = time.monotonic() + delay
        when = f"in {delay:g} s" if delay else "now"
        _say(f"The {self.label} {what_happened}; starting it again {when}.")


def main(commands: dict[str, list[str]]) -> int:
    children = [Child(name, command) for name, command in commands.items()]
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    def child_exited(signum: int, frame: FrameType | None) -> None:
        pass  # a handler only so that the signal reaches the wake-up pipe

    # Every signal writes a byte into this pipe, which the loop below waits on: a child's
    # death or Ctrl+C is handled at once, and otherwise the process sleeps.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, child_exited)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # Children have sessions of their own: a closed terminal reaches only this process.
    signal.signal(signal.SIGHUP, request_stop)
    try:
        while not stopping:
            for child in children:
                child.check()
            now = time.monotonic()
            for child in children:
                if child.start_at is not None and child.start_at <= now and not stopping:
                    if child.deaths:
                        _say(f"Starting the {child.label} again.")
                    child.start()
            due = [child.start_at for child in children if child.start_at is not None]
            timeout = min([IDLE_WAKE_SECONDS, *(at - time.monotonic() for at in due)])
            if not stopping:
                select.select([wake_read], [], [], max(timeout, 0.0))
            with suppress(BlockingIOError):
                while os.read(wake_read, 512):
                    pass
    finally:
        stop({child.name: child.proc for child in children if child.proc is not None})
    return 0


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    sys.stdout.write("Stopping…\n")
    sys.stdout.flush()
    for name, proc in children.items():
        if proc.poll() is None:
            proc.send_signal(STOP_SIGNALS.get(name, signal.SIGTERM))
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
