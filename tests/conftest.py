import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from huey.contrib.djhuey import HUEY

from accounts.models import ApiToken
from worker.watch import EditWatch


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("owner", password="correct horse battery")


@pytest.fixture
def stranger(db):
    return get_user_model().objects.create_user("stranger", password="another long password")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def owner_token(owner) -> str:
    return ApiToken.issue(owner)[1]


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run the jobs a block enqueues (huey is in immediate mode in tests) when it commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores its pictures in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def edit_watch_within_the_test(request, monkeypatch):
    """An edit run in the test's process (huey's immediate mode) sits in the test's open
    transaction. Its watch thread (worker/run.py) looks at it on a connection of its own:
    SQLite's in-memory test database is one connection shared by every thread, but on
    PostgreSQL that connection cannot see the uncommitted edit, and after a second (on a busy
    machine, a run can take that long) would take it for canceled. So on PostgreSQL the watch
    looks only where the test commits; the watch itself is tested by the end-to-end tests,
    whose workers commit (tests/worker/test_worker_faults.py, tests/e2e/)."""
    if connection.vendor != "sqlite" and "transactional_db" not in request.fixturenames:
        monkeypatch.setattr(EditWatch, "INTERVAL", 3600.0)


@pytest.fixture(autouse=True)
def empty_job_queue():
    """Each test starts with the in-process queue empty. Immediate mode runs a job at once, but
    one for later (a webhook's retry, run_after) waits in its schedule, with its record, and
    would still be there in the next test."""
    yield
    HUEY.flush()
