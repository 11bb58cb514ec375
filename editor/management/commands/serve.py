"""Start the web server and the background worker together; Ctrl+C stops both."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

GRACE_SECONDS = 20


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Start only the web server (run `manage.py run_worker` elsewhere).",
        )

    def handle(self, *args, host: str, port: int, no_worker: bool, **options) -> None:
        python = sys.executable
        web = [
            python, "-m", "gunicorn", "webapp.wsgi:application",
            "--bind", f"{host}:{port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", "32",
            "--graceful-timeout", str(GRACE_SECONDS), "--timeout", "120",
            "--no-control-socket",
            # Cards poll every second; a connection kept that long is never cut mid-reuse.
            "--keep-alive", "30",
        ]  # fmt: skip
        worker = [python, "manage.py", "run_worker"]
        # Own process groups: Ctrl+C reaches this process only, which then stops each child
        # in the way that lets it finish what it is doing.
        # Many threads each get a malloc arena of their own by default; two keep memory flat.
        env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
        children = {"web": subprocess.Popen(web, env=env, start_new_session=True)}  # noqa: S603
        if not no_worker:
            children["worker"] = subprocess.Popen(worker, env=env, start_new_session=True)  # noqa: S603
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        self._announce(host, port)
        try:
            while not stopping:
                exited = [name for name, proc in children.items() if proc.poll() is not None]
                if exited:
                    self.stderr.write(f"The {exited[0]} process stopped; stopping the rest.")
                    break
                time.sleep(0.5)
        finally:
            self._stop(children)
        if not stopping:
            sys.exit(1)

    def _announce(self, host: str, port: int) -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        url = f"http://{shown}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"Gaitu is running at {url}"))
        if settings.GAITU_DEMO:
            self.stdout.write("Demo mode: no GAITU_API_KEY is set, edits use the built-in gateway.")
        if not get_user_model().objects.exists():
            self.stdout.write("Open the URL to create the owner account.")
        self.stdout.write("Press Ctrl+C to stop.")

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        self.stdout.write("Stopping…")
        # gunicorn finishes requests on SIGTERM; huey finishes running jobs on SIGINT.
        signals = {"web": signal.SIGTERM, "worker": signal.SIGINT}
        for name, proc in children.items():
            if proc.poll() is None:
                proc.send_signal(signals[name])
        deadline = time.monotonic() + GRACE_SECONDS
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
