"""Keeps the web server and the worker running together, and stops them together.

`manage.py serve` hands over to this (exec) once it has said where Gaitu runs. It imports no
Django: a process that only waits should not hold the 60 MB that Django's imports take.
Usage: python -m webapp.supervisor '{"web": [...], "worker": [...]}'
"""

import json
import os
import signal
import subprocess
import sys
import time
from types import FrameType

GRACE_SECONDS = 20
# How each child is asked to stop so that it finishes what it is doing: uvicorn finishes
# its requests on SIGTERM, huey its running jobs on SIGINT.
STOP_SIGNALS = {"web": signal.SIGTERM, "worker": signal.SIGINT}


def main(commands: dict[str, list[str]]) -> int:
    # Own process groups: Ctrl+C reaches this process only, which then stops each child
    # the way that lets it finish.
    children = {
        name: subprocess.Popen(command, start_new_session=True)  # noqa: S603
        for name, command in commands.items()
    }
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stopping:
            exited = [name for name, proc in children.items() if proc.poll() is not None]
            if exited:
                sys.stderr.write(f"The {exited[0]} process stopped; stopping the rest.\n")
                break
            time.sleep(0.5)
    finally:
        stop(children)
    return 0 if stopping else 1


def stop(children: dict[str, subprocess.Popen]) -> None:
    sys.stdout.write("Stopping…\n")
    sys.stdout.flush()
    for name, proc in children.items():
        if proc.poll() is None:
            proc.send_signal(STOP_SIGNALS[name])
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
