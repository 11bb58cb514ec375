"""Background jobs: huey, on SQLite in the data folder, or shared between machines on Redis or
PostgreSQL."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from webapp.settings.gaitu import DATA_DIR, DATABASE_URL, GAITU_QUEUE_URL, GAITU_WORKER_THREADS
from webapp.settings.scale import require_scale_libraries

_POSTGRES = ("postgres://", "postgresql://")

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
queue_url = GAITU_QUEUE_URL or (DATABASE_URL if DATABASE_URL.startswith(_POSTGRES) else "")
if queue_url.startswith(("redis://", "rediss://", "unix://")):
    # Workers on several machines share one Redis queue; an idle one blocks on it (BRPOP),
    # so a new job wakes it at once wherever it runs.
    require_scale_libraries("GAITU_QUEUE_URL", "redis")
    HUEY = {
        "huey_class": "worker.redis_queue.SizedRedisHuey",
        "name": "gaitu",
        "url": queue_url,
        # A connection for each thread blocked on the queue, and some for the rest.
        "max_connections": GAITU_WORKER_THREADS + 8,
        "blocking": True,
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
elif queue_url.startswith(_POSTGRES):
    # Or one PostgreSQL queue (the database's own, unless GAITU_QUEUE_URL names another): a
    # job is taken with SKIP LOCKED, and idle workers wait on LISTEN for the NOTIFY sent with it.
    require_scale_libraries("GAITU_QUEUE_URL", "psycopg")
    HUEY = {
        "huey_class": "huey.PostgresHuey",
        "name": "gaitu",
        "dsn": "postgresql://" + queue_url.split("://", 1)[1],
        "blocking": True,
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
elif queue_url:
    raise ImproperlyConfigured(
        "GAITU_QUEUE_URL must be a redis:// or postgres:// URL (or unset for SQLite)."
    )
else:
    HUEY = {
        "huey_class": "worker.queue.NudgedSqliteHuey",  # wakes the worker at once
        "name": "gaitu",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
