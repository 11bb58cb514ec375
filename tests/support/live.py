"""A real Gaitu in real processes, started the way `make run` starts it, for end-to-end tests."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from tests.support.servers import fresh_deployment

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long pass phrase"  # of every person the live tests make
# This run is on PostgreSQL, Redis and S3 (tests/support/scale_profile.py).
SCALE_PROFILE = os.environ.get("GAITU_TEST_PROFILE") == "scale"
DEPLOYMENT_VARIABLES = ("DATABASE_URL", "GAITU_QUEUE_URL", "GAITU_S3_BUCKET")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gaitu:
    """One installation: a data folder, its environment, and the processes serving it."""

    def __init__(self, data_dir: Path, same_as: "Gaitu | None" = None, **extra_env: str):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "GAITU_DATA_DIR": str(data_dir),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "GAITU_WORKER_THREADS": "8",
            # One web process, whichever the profile (the scale-out one's default is one per
            # core): tests about several set it (tests/e2e/test_web_processes.py).
            "GAITU_WEB_PROCESSES": "1",
            "MALLOC_ARENA_MAX": "2",  # as `manage.py serve` sets it
            # The free-space floor is about the machine: the tests that are about it set it.
            "GAITU_MIN_FREE_MB": "0",
            # The scale-out profile: a database, queue and bucket of this installation's own,
            # unless it is given those of another (see `deployment`).
            **(fresh_deployment(os.environ) if SCALE_PROFILE and not same_as else {}),
            **(same_as.deployment if same_as else {}),
            **extra_env,
        }
        # What a second installation needs, beside the same data folder, to share this one's
        # data: on the scale-out profile, its database, queue and bucket; nothing otherwise.
        self.deployment = {
            name: value for name, value in self.env.items() if name in DEPLOYMENT_VARIABLES
        }
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.logs: list[Path] = []

    def manage(self, *args: str, **extra_env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env={**self.env, **extra_env}, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout

    def start(self, *command: str) -> subprocess.Popen:
        log_path = self.data_dir / f"{command[0]}-{len(self.logs)}.log"
        self.logs.append(log_path)
        with open(log_path, "w") as log:
            return subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return "".join(path.read_text() for path in self.logs)

    def wait_until_up(self, proc: subprocess.Popen, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Gaitu exited early:\n{self.output()}")
            try:
                httpx.get(f"{self.url}/login/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"Gaitu did not answer within {timeout:g} s:\n{self.output()}")

    def processes(self) -> list[int]:
        """Every process still running for this installation, wherever it is in the tree.

        The web server and the worker have sessions of their own, and a dead `serve` leaves
        them to init: what they share is the data folder in their environment.
        """
        mark = f"GAITU_DATA_DIR={self.data_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    environ = (entry / "environ").read_bytes().split(b"\0")
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                except (FileNotFoundError, ProcessLookupError, PermissionError):
                    continue
                if mark in environ and state != "Z":
                    found.append(int(entry.name))
        return found

    def kill_leftovers(self) -> list[int]:
        """SIGKILL whatever still runs for this installation (see processes); returns it."""
        left = self.processes()
        for pid in left:
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # its group, if it leads one
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return left

    def session(self, username: str, **client_options) -> httpx.Client:
        """A browser-like client, logged in through the login form as an existing person."""
        browser = httpx.Client(base_url=self.url, timeout=30, **client_options)
        form = browser.get("/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        answer = browser.post(
            "/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert "sessionid" in browser.cookies, answer.text[:300]
        return browser

    def api(self, username: str = "admin") -> httpx.Client:
        """An API client for a new user of that name."""
        self.manage(
            "createsuperuser", "--noinput", "--username", username,
            "--email", f"{username}@example.com",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )  # fmt: skip
        token = self.manage("create_api_token", username).strip()
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


def children(pid: int) -> dict[str, int]:
    """The live children of a process by role ("web", "worker"), e.g. `manage.py serve`'s."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            role = "web" if b"uvicorn" in words else "worker" if b"run_worker" in words else None
            found[role or entry.name] = int(entry.name)
    return found


def wait_until(condition, timeout: float = 60, what: str = "the condition", every: float = 0.1):
    """Poll `condition()` until it gives something true, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 40) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


@contextmanager
def running_gaitu(data_dir: Path, **extra_env: str):
    """`manage.py serve` (what `make run` ends in): web server and worker together."""
    gaitu = Gaitu(data_dir, **extra_env)
    proc = gaitu.start("serve")
    try:
        gaitu.wait_until_up(proc)
        yield gaitu
    finally:
        try:
            code = stop(proc)
        finally:
            gaitu.kill_leftovers()
        assert code == 0, gaitu.output()
        assert f"Gaitu is running at {gaitu.url}/" in gaitu.output()


def wait_for_edit(
    client: httpx.Client, url: str, timeout: float = 60, until=None, every: float = 0.1
) -> dict:
    """Poll an edit until `until(detail)` holds (default: it has finished)."""
    until = until or (lambda detail: detail["status"] not in ("queued", "running"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = client.get(url).json()
        if until(detail):
            return detail
        time.sleep(every)
    raise AssertionError(f"edit still {detail['status']} after {timeout}s: {detail}")


@contextmanager
def split_gaitu(
    data_dir: Path, *, remote_gateway: bool = False, with_worker: bool = True, **extra_env: str
):
    """Web server and worker as separate processes, as when they run on different machines.

    With remote_gateway, the demo gateway runs in a process of its own and Gaitu is configured
    for it as for any real gateway (base URL, key), so its work is not counted as Gaitu's.
    """
    gateway_port = free_port()
    if remote_gateway:
        extra_env = {
            "GAITU_API_BASE": f"http://127.0.0.1:{gateway_port}/v1",
            "GAITU_API_KEY": "remote-demo",
            "GAITU_FETCH_ALLOW_HOSTS": "127.0.0.1",
            **extra_env,
        }
    gaitu = Gaitu(data_dir, **extra_env)
    running: list[tuple[subprocess.Popen, int]] = []
    try:
        if remote_gateway:
            running.append(
                # Nothing of its own to finish: ended outright, so a stuck handler can't hold it.
                (gaitu.start("demo_gateway", "--port", str(gateway_port)), signal.SIGTERM)
            )
        web = gaitu.start("serve", "--no-worker")
        running.append((web, signal.SIGTERM))
        gaitu.wait_until_up(web)
        if with_worker:
            running.append((gaitu.start("run_worker"), signal.SIGINT))
        yield gaitu
    finally:
        for proc, sig in reversed(running):
            stop(proc, sig)
