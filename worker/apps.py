from typing import Any

from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "worker"

    def ready(self) -> None:
        from django.tasks.signals import task_finished

        task_finished.connect(forget_result, dispatch_uid="worker.forget_result")


def forget_result(sender: object, task_result: Any, **kwargs: Any) -> None:
    """Nobody reads a job's result (the edit's own row says everything), so the queue keeps
    none: huey's django.tasks backend would otherwise keep every job's record for good."""
    from huey.contrib.djhuey import HUEY
    from huey.contrib.djhuey.tasks_backend import KEY

    HUEY.get(KEY % task_result.id)  # a read that is not a peek takes the record out
