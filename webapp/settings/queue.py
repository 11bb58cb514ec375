"""Background jobs: huey, on SQLite in the data folder, or on Redis shared between machines."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from webapp.settings.gaitu import DATA_DIR, GAITU_QUEUE_URL, GAITU_WORKER_THREADS

TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}
HUEY_CONSUMER = {
    "workers": GAITU_WORKER_THREADS,
    "worker_type": "thread",
    # Idle threads wait for a nudge (SQLite, worker/queue.py) or block on Redis; these are
    # the pauses after an error reading the queue.
    "initial_delay": 0.05,
    "backoff": 1.25,
    "max_delay": 0.25,
    "periodic": False,  # the recovery sweep runs beside the consumer (worker/liveness.py)
    "check_worker_health": True,
}
HUEY: dict[str, Any]
if GAITU_QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    # Workers on several machines share one Redis queue (pip install redis).
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "gaitu",
        "url": GAITU_QUEUE_URL,
        "blocking": True,
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
elif GAITU_QUEUE_URL:
    raise ImproperlyConfigured("GAITU_QUEUE_URL must be a redis:// URL (or unset for SQLite).")
else:
    HUEY = {
        "huey_class": "worker.queue.NudgedSqliteHuey",  # wakes the worker at once
        "name": "gaitu",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
