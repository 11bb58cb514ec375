"""The scale-out profile's settings: PostgreSQL from DATABASE_URL, pictures in an S3 bucket.

Both read gaitu.py's variables; base.py uses them. Their libraries are requirements-scale.txt,
which `make run` installs when one of the variables is set; without it, start-up says so.
"""

import importlib.util
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from webapp.settings import gaitu

# Connections to PostgreSQL are kept in a pool per process (Django's, psycopg_pool's): a worker
# thread holds one for its edit, and the web server's requests borrow one for their length.
POOL_SPARE = 8  # connections beyond the worker's threads: the beat, the hub, requests
# Threads that query at once, at most: an edit's thread gives its connection back while it
# waits on the gateway (worker/run.py release_connection), so hundreds of threads in flight
# (GAITU_WORKER_THREADS) share this many, well inside PostgreSQL's max_connections of 100.
POOL_THREADS = min(gaitu.GAITU_WORKER_THREADS, 48)


def require_scale_libraries(variable: str, *modules: str) -> None:
    """Say what to install, rather than fail later on an import deep in Django."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ImproperlyConfigured(
            f"{variable} is set, which needs the scale-out libraries ({', '.join(missing)} "
            "missing): pip install -r requirements-scale.txt (make run does it by itself)."
        )


def database_from_url(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for DATABASE_URL (PostgreSQL; sqlite:// works too)."""
    require_scale_libraries("DATABASE_URL", "dj_database_url", "psycopg", "psycopg_pool")
    import dj_database_url

    try:
        database: dict[str, Any] = dict(dj_database_url.parse(url))
    except (ValueError, dj_database_url.UnknownSchemeError) as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL cannot be read ({error}); it looks like "
            "postgres://user:password@host:5432/name"
        ) from None
    if database["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// URL (or unset for SQLite in the data folder)."
        )
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["OPTIONS"] = {
            **database.get("OPTIONS", {}),
            "pool": {
                "min_size": 2,
                "max_size": POOL_THREADS + POOL_SPARE,
                "timeout": 30,  # seconds a thread waits for a connection of the pool
            },
        }
        database["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not as well
    return database


def picture_storage() -> dict[str, Any]:
    """Where pictures are kept: the data folder, or the S3 bucket of GAITU_S3_BUCKET."""
    if not gaitu.GAITU_S3_BUCKET:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    require_scale_libraries("GAITU_S3_BUCKET", "storages", "boto3")
    from botocore.config import Config

    style = gaitu.GAITU_S3_ADDRESSING_STYLE.lower() or None
    if style not in (None, "path", "virtual"):
        raise ImproperlyConfigured("GAITU_S3_ADDRESSING_STYLE must be path or virtual.")
    options: dict[str, Any] = {
        "bucket_name": gaitu.GAITU_S3_BUCKET,
        "endpoint_url": gaitu.GAITU_S3_ENDPOINT_URL or None,
        "region_name": gaitu.GAITU_S3_REGION or None,
        "access_key": gaitu.GAITU_S3_ACCESS_KEY_ID or None,
        "secret_key": gaitu.GAITU_S3_SECRET_ACCESS_KEY or None,
        "addressing_style": style,
        "signature_version": "s3v4",
        # Objects are private: every picture is read through a view that checks who asks.
        "default_acl": None,
        "querystring_auth": True,
        # Names are random (editor/models.py); no HEAD request before each write to check.
        "file_overwrite": True,
        # Reading a picture spools it to memory up to this size, beyond it to a temporary file.
        "max_memory_size": 8 * 2**20,
        "client_config": Config(
            # Checksums only where S3 requires them: many S3-compatible stores do not know
            # the newer default ones (aws-chunked uploads) and would store the framing.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=gaitu.GAITU_WORKER_THREADS + POOL_SPARE,
        ),
    }
    return {"BACKEND": "webapp.bucket_storage.BucketStorage", "OPTIONS": options}
