"""Start the web server and the background worker, each again if it dies; Ctrl+C stops both."""

import json
import os
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from webapp.server import web_server_command


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Start only the web server (run `manage.py run_worker` elsewhere).",
        )

    def handle(self, *args: Any, host: str, port: int, no_worker: bool, **options: Any) -> None:
        python = sys.executable
        # uvicorn with Gaitu's guards: trusted proxies, timeouts, caps (webapp/server.py).
        web = web_server_command(python, host, port)
        commands = {"web": web, "worker": [python, "manage.py", "run_worker"]}
        if no_worker:
            del commands["worker"]
        self._announce(host, port)
        self.stdout.flush()
        # Many threads each get a malloc arena of their own by default; two keep memory flat.
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        # A picture's memory goes back to the system when it is freed. By default glibc raises
        # this threshold after each big free, and later pictures come from a heap that keeps
        # its high-water mark for good.
        os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(256 * 1024))
        # From here a small process without Django watches the two and starts either again
        # when it dies (see webapp/supervisor.py).
        os.execv(python, [python, "-m", "webapp.supervisor", json.dumps(commands)])  # noqa: S606

    def _announce(self, host: str, port: int) -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        url = f"http://{shown}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"Gaitu is running at {url}"))
        if settings.GAITU_DEMO:
            self.stdout.write("Demo mode: no GAITU_API_KEY is set, edits use the built-in gateway.")
        if not get_user_model().objects.exists():
            self.stdout.write("Open the URL to create the owner account.")
        self.stdout.write("Press Ctrl+C to stop.")
