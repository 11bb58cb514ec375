"""The health probes of the deploy files against real processes: the Dockerfile's HEALTHCHECK
command beside `serve --no-worker`, and `manage.py worker_alive` beside `run_worker`. One
installation for both, as setting one up (migrate, collectstatic) is most of the time."""

import os
import signal
import subprocess
import sys

from tests.support.deploy_files import healthcheck_command
from tests.support.live import ROOT, Gaitu, stop, wait_until


def image_health_check(gaitu: Gaitu) -> subprocess.CompletedProcess:
    """The Dockerfile's HEALTHCHECK command, run as the container runs it (PORT set)."""
    python, *arguments = healthcheck_command()
    assert python == "python"
    return subprocess.run(
        [sys.executable, *arguments], env=gaitu.env, capture_output=True, text=True, check=False
    )


def worker_alive(gaitu: Gaitu) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "worker_alive"],
        cwd=ROOT, env=gaitu.env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_probes_follow_the_real_processes(tmp_path):
    # Host names as in deploy/gaitu.env.example: the site's, and 127.0.0.1 for the check.
    gaitu = Gaitu(tmp_path / "data", ALLOWED_HOSTS="gaitu.example.com,127.0.0.1")
    web = gaitu.start("serve", "--no-worker")
    try:
        gaitu.wait_until_up(web)
        served = image_health_check(gaitu)
        assert served.returncode == 0, served.stderr

        before = worker_alive(gaitu)
        assert before.returncode == 1
        assert "none has registered" in before.stderr
        worker = gaitu.start("run_worker")

        def alive() -> subprocess.CompletedProcess | None:
            done = worker_alive(gaitu)
            return done if done.returncode == 0 else None

        # The worker registers before it takes its first job.
        up = wait_until(alive, 60, "a beat from the worker")
        assert f":{worker.pid}." in up.stdout, up.stdout
        # Killed outright: its last beat is recent, and still the probe says it is gone.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        after = worker_alive(gaitu)
        assert after.returncode == 1, after.stdout
        assert "its process has stopped" in after.stderr
    finally:
        try:
            assert stop(web, signal.SIGTERM) == 0, gaitu.output()
        finally:
            gaitu.kill_leftovers()
    stopped = image_health_check(gaitu)
    assert stopped.returncode == 1
    assert "Connection refused" in stopped.stderr
