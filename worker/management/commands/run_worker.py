"""The background worker: huey's consumer, with this process's beat and the recovery sweep."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from worker.liveness import Liveness


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        with Liveness():
            call_command("run_huey")
