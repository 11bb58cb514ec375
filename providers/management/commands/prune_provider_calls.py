"""Forget the providers' calls older than a day (the health page does it too, each time it is
drawn): for a scheduler, where the page is seldom opened."""

from typing import Any

from django.core.management.base import BaseCommand

from providers.health import prune


class Command(BaseCommand):
    help = "Delete the providers' call records older than a day."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Deleted {prune()} call records older than a day.")
