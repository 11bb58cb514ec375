"""huey's Redis queue with a connection pool as large as the worker's threads.

Each idle worker thread blocks on the queue (BRPOP) on a connection of its own, and redis-py's
pool allows 100 connections unless told otherwise: with more threads (GAITU_WORKER_THREADS),
the rest failed with "Too many connections". Loaded by huey (settings.HUEY) on the scale-out
profile only, where redis is installed.
"""

from typing import Any

from huey import RedisHuey
from huey.storage import RedisStorage
from redis import ConnectionPool


class SizedRedisStorage(RedisStorage):
    def __init__(self, *args: Any, url: str, max_connections: int, **kwargs: Any) -> None:
        pool = ConnectionPool.from_url(url, max_connections=max_connections)
        super().__init__(*args, connection_pool=pool, **kwargs)


class SizedRedisHuey(RedisHuey):
    storage_class = SizedRedisStorage
