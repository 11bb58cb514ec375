from django.db import models
from django.utils import timezone


class WorkerProcess(models.Model):
    """A running worker process, known alive by a beat every few seconds (worker/liveness.py).

    Edits name the process that runs them (Edit.worker, "host:pid"); when its beats stop, its
    edits are taken up again within seconds, by another worker or by the restarted one.
    """

    name = models.CharField(max_length=100, unique=True)  # host:pid, as on Edit.worker
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Sweep(models.Model):
    """When the recovery sweep last ran: one row, taken in turn, so that it runs once per
    interval for the whole installation however many workers there are."""

    swept_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sweep at {self.swept_at}"
