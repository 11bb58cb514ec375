"""Exit 0 if a worker process on this host is beating, 1 if none is: a container health check.

A worker writes its beat into the database every few seconds (worker/liveness.py), under its
name "host:pid". This looks for a recent beat from this host, so it must run where the worker
runs (the health check of the worker's container, `docker compose exec worker …`).
"""

import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from worker.models import WorkerProcess
from worker.recovery import DEAD_AFTER, live_workers


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        host = socket.gethostname()
        try:
            rows = list(WorkerProcess.objects.filter(name__startswith=f"{host}:"))
            # The sweep's own test: a recent beat and, on this host, a process that exists.
            alive = live_workers()
        except DatabaseError as error:
            raise CommandError(f"Cannot tell: the database did not answer ({error}).") from error
        here = sorted(row.name for row in rows if row.name in alive)
        if here:
            self.stdout.write(f"Worker alive on {host}: {', '.join(here)}.")
            return
        raise CommandError(f"No worker is alive on {host}: {why_not(rows)}.", returncode=1)


def why_not(rows: list[WorkerProcess]) -> str:
    """Why none of this host's registered worker processes counts as alive."""
    if not rows:
        return "none has registered"
    silent = (timezone.now() - max(row.beat_at for row in rows)).total_seconds()
    if silent > DEAD_AFTER:
        return f"the last beat was {silent:.0f} s ago (gone after {DEAD_AFTER:g} s)"
    return "its process has stopped"
