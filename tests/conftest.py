import pytest
from django.contrib.auth import get_user_model

from accounts.models import ApiToken


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
