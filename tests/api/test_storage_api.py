"""The API when there is no room: 507 in the API's error shape, and GET /account's figures."""

from django.urls import reverse

from editor.limits import stored_bytes
from editor.models import Edit
from tests.support.disk import MB, fill_disk_mid_write, say_free_space
from tests.support.stored import own_bucket, picture_storage  # noqa: F401  (autouse)
from tests.web.test_edit_flow import stored_files

from .test_api import bearer, create


def test_below_the_floor_the_api_answers_507_storage_full(
    client, owner_token, run_jobs, settings, monkeypatch
):
    settings.GAITU_MIN_FREE_MB = 100
    say_free_space(monkeypatch, 99)
    response = create(client, owner_token, run_jobs)
    assert response.status_code == 507
    error = response.json()["error"]
    assert error["code"] == "storage_full"
    assert "disk space" in error["message"]
    assert "Retry-After" not in response
    assert not Edit.objects.exists()
    # Reading and listing still work.
    assert client.get(reverse("api_edits"), **bearer(owner_token)).status_code == 200
    assert client.get(reverse("api_account"), **bearer(owner_token)).status_code == 200


def test_over_the_quota_the_api_answers_507_quota_exceeded(client, owner_token, run_jobs, settings):
    first = create(client, owner_token, run_jobs).json()
    settings.GAITU_STORAGE_QUOTA_MB = 1
    Edit.objects.get().results.update(size=MB)
    response = create(client, owner_token, run_jobs)
    assert response.status_code == 507
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "1.0\xa0MB" in error["message"]
    # Deleting an edit frees its share.
    with run_jobs():
        assert client.delete(first["url"], **bearer(owner_token)).status_code == 204
    assert create(client, owner_token, run_jobs).status_code == 202


def test_a_full_disk_while_storing_answers_507_and_leaves_nothing(
    client, owner_token, run_jobs, monkeypatch, settings
):
    # A disk of this machine's, in either profile: the pictures in the media folder.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    fill_disk_mid_write(monkeypatch)
    response = create(client, owner_token, run_jobs)
    assert response.status_code == 507
    assert response.json()["error"]["code"] == "storage_full"
    assert not Edit.objects.exists()
    assert stored_files() == []


def test_the_account_answers_with_usage_and_limits(client, owner, owner_token, run_jobs, settings):
    answer = client.get(reverse("api_account"), **bearer(owner_token))
    assert answer.status_code == 200
    assert answer.json() == {
        "username": "owner",
        "stored_bytes": 0,
        "storage_quota_bytes": None,
        "edits_today": 0,
        "daily_limit": None,
    }
    create(client, owner_token, run_jobs)
    settings.GAITU_STORAGE_QUOTA_MB, settings.GAITU_DAILY_LIMIT = 50, 10
    body = client.get(reverse("api_account"), **bearer(owner_token)).json()
    assert (
        body["stored_bytes"]
        == stored_bytes(owner)
        == sum(picture_storage().size(name) for name in stored_files())
    )
    assert body["storage_quota_bytes"] == 50 * MB
    assert (body["edits_today"], body["daily_limit"]) == (1, 10)


def test_the_account_needs_a_token(client, db):
    answer = client.get(reverse("api_account"))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
