"""The recovery sweep's turn (worker/recovery.py, take_turn_to_sweep) among worker processes
asking at the same moment, on the deployment's real database: the embedded profile's SQLite
file, or the scale-out profile's PostgreSQL, where workers on several hosts ask."""

import subprocess
import sys

from tests.support.live import ROOT, Gaitu

PROCESSES = 6
# One worker process's ask, once the test says go (all of them have imported Django by then).
ASK = """
import sys
from worker.recovery import take_turn_to_sweep
print("ready", flush=True)
sys.stdin.readline()
print(take_turn_to_sweep(), flush=True)
"""


def ask(gaitu: Gaitu) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", ASK],
        cwd=ROOT, env=gaitu.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_of_workers_asking_at_the_same_moment_one_takes_the_turn(tmp_path):
    """The turn is one conditional UPDATE of one row (made by the first to ask, here): on
    PostgreSQL the row's lock makes the others see the time the first one wrote; SQLite lets
    one write at a time."""
    gaitu = Gaitu(tmp_path)
    asking = [ask(gaitu) for _ in range(PROCESSES)]
    try:
        for proc in asking:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        for proc in asking:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = [proc.communicate(timeout=60)[0].strip() for proc in asking]
    finally:
        for proc in asking:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert sorted(answers) == ["False"] * (PROCESSES - 1) + ["True"]
