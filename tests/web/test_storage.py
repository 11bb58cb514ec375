"""Room to keep pictures: the free-space floor, the per-person quota, a disk that fills up while
an edit is stored, and the sizes the quota is counted from."""

import errno
import shutil

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django.urls import reverse

from editor.limits import stored_bytes
from editor.models import Edit
from tests.support.disk import MB, DiskUsage, fill_disk_mid_write, say_free_space
from tests.support.factories import image_bytes, upload
from tests.support.stored import own_bucket, picture_storage  # noqa: F401  (autouse)

from .test_edit_flow import stored_files, submit


@pytest.fixture
def free_space(monkeypatch):
    return lambda mb: say_free_space(monkeypatch, mb)


@pytest.fixture
def on_disk(settings):
    """The pictures in the media folder, in either profile: what these tests are about is a
    disk of this machine's (the floor with a bucket is in tests/web/test_pictures_in_s3.py)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def full_disk(monkeypatch, on_disk):
    fill_disk_mid_write(monkeypatch)


# --- The free-space floor ----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_below_the_floor_new_edits_are_refused_keeping_the_instruction(
    owner_client, run_jobs, settings, free_space, htmx
):
    settings.GAITU_MIN_FREE_MB = 500
    free_space(499)
    response = submit(owner_client, run_jobs, instruction="make the sky pink", htmx=htmx)
    assert response.status_code == (200 if htmx else 507)
    assert "running out of disk space" in response.text
    # The page keeps its own form (pictures and text) under htmx; without it, the text is back.
    assert ("make the sky pink</textarea>" in response.text) is not htmx
    assert not Edit.objects.exists()
    assert stored_files() == []


def test_above_the_floor_and_with_the_floor_off_edits_are_taken(
    owner_client, run_jobs, settings, free_space
):
    settings.GAITU_MIN_FREE_MB = 500
    free_space(501)
    assert submit(owner_client, run_jobs).status_code == 200
    settings.GAITU_MIN_FREE_MB = 0
    free_space(0)
    assert submit(owner_client, run_jobs).status_code == 200
    assert Edit.objects.filter(status=Edit.Status.SUCCEEDED).count() == 2


def test_below_the_floor_everything_else_keeps_working(
    owner_client, run_jobs, settings, free_space
):
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    settings.GAITU_MIN_FREE_MB = 500
    free_space(1)
    for page in ("studio", "gallery", "account"):
        assert owner_client.get(reverse(page)).status_code == 200, page
    assert owner_client.get(reverse("edit_detail", args=[edit.pk])).status_code == 200
    picture = owner_client.get(reverse("media", args=[edit.pk, "result", 0, "full"]))
    assert picture.status_code == 200
    with run_jobs():
        owner_client.post(reverse("edit_delete", args=[edit.pk]))
    assert not Edit.objects.exists()
    assert stored_files() == []


def test_the_disk_is_looked_at_only_when_an_edit_is_submitted(
    owner_client, run_jobs, settings, monkeypatch, on_disk
):
    settings.GAITU_MIN_FREE_MB = 500
    looked = []
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: looked.append(path) or DiskUsage(0, 0, 0)
    )
    owner_client.get(reverse("studio"))
    owner_client.get(reverse("gallery"))
    assert looked == []
    submit(owner_client, run_jobs)
    assert len(looked) == 1
    # The media folder is made with the first picture: until then its nearest folder counts.
    assert settings.MEDIA_ROOT.is_relative_to(looked[0])


# --- The storage quota -------------------------------------------------------------------------


def test_over_the_quota_new_edits_are_refused_saying_how_much(owner_client, run_jobs, settings):
    submit(owner_client, run_jobs)
    used = stored_bytes(Edit.objects.get().owner)
    assert used > 0
    settings.GAITU_STORAGE_QUOTA_MB = 1
    Edit.objects.get().sources.update(size=MB)  # as if the original were a large one
    response = submit(owner_client, run_jobs, instruction="sepia", htmx=False)
    assert response.status_code == 507
    text = response.content.decode()
    assert "of your 1.0\xa0MB of storage" in text
    assert "Delete some edits" in text
    assert "sepia</textarea>" in text
    assert Edit.objects.count() == 1
    # Deleting frees the room.
    with run_jobs():
        owner_client.post(reverse("edit_delete", args=[Edit.objects.get().pk]))
    assert submit(owner_client, run_jobs).status_code == 200


def test_the_quota_is_each_persons_own(owner_client, run_jobs, settings, stranger):
    settings.GAITU_STORAGE_QUOTA_MB = 1
    theirs = Edit.objects.create(owner=stranger, instruction="theirs")
    theirs.sources.create(size=5 * MB, content_type="image/jpeg")
    assert submit(owner_client, run_jobs).status_code == 200
    assert Edit.objects.filter(owner__username="owner").count() == 1


def test_sizes_count_every_stored_file(owner_client, run_jobs):
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    source, result = edit.sources.get(), edit.results.get()
    assert source.metadata_removed
    assert source.size == source.file.size + source.thumbnail.size + source.display.size
    assert result.size == result.file.size + result.thumbnail.size + result.display.size
    stored = sum(picture_storage().size(name) for name in stored_files())
    assert stored_bytes(edit.owner) == stored


def test_the_account_page_shows_storage(owner_client, run_jobs, settings):
    page = owner_client.get(reverse("account")).content.decode()
    assert "Your pictures take up 0\xa0bytes." in page
    assert "<meter" not in page
    submit(owner_client, run_jobs)
    settings.GAITU_STORAGE_QUOTA_MB = 2
    page = owner_client.get(reverse("account")).content.decode()
    used = stored_bytes(Edit.objects.get().owner)
    assert "of 2.0\xa0MB." in page
    assert f'value="{used * 100 // (2 * MB)}"' in page
    assert "Your storage is full" not in page
    Edit.objects.get().results.update(size=3 * MB)
    page = owner_client.get(reverse("account")).content.decode()
    assert 'value="100"' in page
    assert "Your storage is full" in page


# --- A disk that fills up while storing --------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_full_disk_while_storing_is_a_refusal_and_leaves_nothing(
    owner_client, run_jobs, full_disk, htmx
):
    pictures = [upload(), upload("second.png", image_bytes(fmt="PNG"), "image/png")]
    response = submit(owner_client, run_jobs, instruction="warmer", files=pictures, htmx=htmx)
    assert response.status_code == (200 if htmx else 507)
    assert "running out of disk space" in response.text
    # The page keeps its own form (pictures and text) under htmx; without it, the text is back.
    assert ("warmer</textarea>" in response.text) is not htmx
    assert not Edit.objects.exists()
    assert stored_files() == []


def test_another_storage_error_is_a_refusal_too(owner_client, run_jobs, monkeypatch, on_disk):
    def refuse(self, name, content):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(FileSystemStorage, "_save", refuse)
    response = submit(owner_client, run_jobs, htmx=False)
    assert response.status_code == 507
    assert "could not be stored" in response.text
    assert not Edit.objects.exists()


def test_a_full_database_is_a_refusal(owner_client, run_jobs, monkeypatch):
    def full(*args, **kwargs):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(Edit.objects, "create", full)
    response = submit(owner_client, run_jobs, htmx=False)
    assert response.status_code == 507
    assert "running out of disk space" in response.text
    assert stored_files() == []


def test_temporary_upload_files_do_not_outlive_the_request(
    owner_client, run_jobs, settings, tmp_path, full_disk
):
    # Over FILE_UPLOAD_MAX_MEMORY_SIZE, so Django writes the upload to a temporary file.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    big = image_bytes((1500, 1500), fmt="PNG", color=(1, 2, 3), compress_level=0)
    assert len(big) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    files = [upload("big.png", big, "image/png")]
    response = submit(owner_client, run_jobs, files=files, htmx=False)
    assert response.status_code == 507
    assert list((tmp_path / "uploads").iterdir()) == []
    assert stored_files() == []


def test_a_full_disk_while_storing_results_fails_the_edit_and_leaves_no_result(
    owner_client, run_jobs, monkeypatch, on_disk
):
    fill_disk_mid_write(monkeypatch, where="results/")
    assert submit(owner_client, run_jobs).status_code == 200
    edit = Edit.objects.get()
    assert edit.status == Edit.Status.FAILED
    assert not edit.results.exists()
    source = edit.sources.get()
    # What is left on the disk is the original and its thumbnail, each named by its row.
    assert set(stored_files()) == {source.file.name, source.thumbnail.name, source.display.name}
