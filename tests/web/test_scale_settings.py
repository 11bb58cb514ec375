"""The scale-out profile by environment alone: DATABASE_URL, GAITU_QUEUE_URL, GAITU_S3_*."""

import os
import subprocess
import sys

import pytest

from tests.web.test_settings_env import ROOT, failure_for, fresh_environment, settings_for

SCALE = {
    "DATABASE_URL": "postgres://gaitu:pw@db.internal:5433/gaitu",
    "SECRET_KEY": "the same on every machine",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "postgres://gaitu@db/gaitu"),
        ("GAITU_QUEUE_URL", "redis://queue:6379/0"),
        ("GAITU_S3_BUCKET", "pictures"),
    ],
)
def test_without_a_shared_secret_key_start_up_says_what_to_do(tmp_path, variable, value):
    failure = failure_for(tmp_path, **{variable: value})
    assert failure.startswith("django.core.exceptions.ImproperlyConfigured: Set SECRET_KEY")
    assert "the same key" in failure
    assert not (tmp_path / "secret_key").exists()  # none is made up for this machine


def test_database_url_is_postgresql_with_a_pool_and_the_queue_beside_it(tmp_path):
    settings = settings_for(tmp_path, **SCALE)
    database = settings["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 5433, "gaitu")
    assert (database["USER"], database["PASSWORD"]) == ("gaitu", "pw")
    # A queue in PostgreSQL: 32 threads, each with a LISTEN connection of its own.
    assert settings["GAITU_WORKER_THREADS"] == 32
    assert database["OPTIONS"]["pool"]["max_size"] == 32 + 8  # the worker's threads and more
    assert database["CONN_MAX_AGE"] == 0
    # No queue of its own named: the jobs wait in the same database, woken by NOTIFY.
    assert settings["HUEY"]["huey_class"] == "huey.PostgresHuey"
    assert settings["HUEY"]["dsn"] == "postgresql://gaitu:pw@db.internal:5433/gaitu"
    assert settings["SECRET_KEY"] == "the same on every machine"
    assert settings["GAITU_SCALE_OUT"] is True
    assert settings["GAITU_WEB_PROCESSES"] == os.cpu_count()
    assert settings["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")


@pytest.mark.parametrize(
    "url", ["redis://queue-host:6379/0", "rediss://queue-host:6380/1", "unix:///run/redis.sock"]
)
def test_a_redis_queue(tmp_path, url):
    huey = settings_for(tmp_path, SECRET_KEY="k", GAITU_QUEUE_URL=url)["HUEY"]
    assert huey["huey_class"] == "worker.redis_queue.SizedRedisHuey"
    assert huey["max_connections"] == 256 + 8  # one for each thread blocked on it, and more
    assert huey["url"] == url
    assert huey["blocking"] is True  # an idle worker waits on the queue itself, on any host


def test_a_postgresql_queue_of_its_own(tmp_path):
    huey = settings_for(tmp_path, **SCALE, GAITU_QUEUE_URL="postgres://q@queue-db/jobs")["HUEY"]
    assert (huey["huey_class"], huey["dsn"]) == (
        "huey.PostgresHuey",
        "postgresql://q@queue-db/jobs",
    )


def test_pictures_in_a_bucket(tmp_path):
    settings = settings_for(
        tmp_path,
        SECRET_KEY="k",
        GAITU_S3_BUCKET="gaitu-pictures",
        GAITU_S3_ENDPOINT_URL="http://minio:9000",
        GAITU_S3_REGION="eu-central-1",
        GAITU_S3_ACCESS_KEY_ID="id",
        GAITU_S3_SECRET_ACCESS_KEY="secret",
        GAITU_S3_ADDRESSING_STYLE="path",
        GAITU_WEB_PROCESSES="3",
    )
    storage = settings["STORAGES"]["default"]
    assert storage["BACKEND"] == "webapp.bucket_storage.BucketStorage"  # django-storages S3
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "gaitu-pictures"
    assert options["endpoint_url"] == "http://minio:9000"
    assert options["region_name"] == "eu-central-1"
    assert (options["access_key"], options["secret_key"]) == ("id", "secret")
    assert options["addressing_style"] == "path"
    assert options["default_acl"] is None  # private objects, read through the media views
    assert settings["DATABASES"]["default"]["ENGINE"] == "webapp.sqlite"
    assert settings["GAITU_WEB_PROCESSES"] == 3


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DATABASE_URL": "mysql://x/db"}, "DATABASE_URL must be a postgres:// URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL cannot be read"),
        ({"GAITU_QUEUE_URL": "amqp://x"}, "GAITU_QUEUE_URL must be a redis:// or postgres:// URL"),
        ({"GAITU_S3_BUCKET": "b", "GAITU_S3_ADDRESSING_STYLE": "dns"}, "must be path or virtual"),
    ],
)
def test_a_variable_that_cannot_be_used_is_named(tmp_path, variables, message):
    assert message in failure_for(tmp_path, SECRET_KEY="k", **variables)


def test_manage_py_says_the_sentence_alone(tmp_path):
    """What `make run` shows when SECRET_KEY is missing: the sentence, no traceback."""
    env = fresh_environment(tmp_path, DATABASE_URL="postgres://gaitu@127.0.0.1:1/gaitu")
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("Gaitu cannot start: Set SECRET_KEY: with DATABASE_URL")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
