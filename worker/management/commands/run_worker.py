"""The background worker: recover edits a stopped worker left behind, then run huey."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Importing recovery also registers its once-a-minute sweep with huey.
from worker.recovery import recover_interrupted


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        recovered = recover_interrupted(this_host_at_start=True)
        if recovered:
            self.stdout.write(f"Recovered {recovered} edit(s) left running by a stopped worker.")
        call_command("run_huey")
