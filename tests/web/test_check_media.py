"""`manage.py check_media`: the picture store against the database, for people and for cron.

Files are made old by moving check_media's clock on, not by touching them: a bucket keeps the
time an object was written, and nobody can set it (tests/web/test_pictures_in_s3.py has the
bucket's own tests).
"""

import io
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

import editor.management.commands.check_media as check_media_command
from editor.models import Edit
from tests.support.factories import upload
from tests.support.stored import (  # noqa: F401  (own_bucket: autouse)
    own_bucket,
    picture_storage,
    remove_stored,
    stored_names,
)

HOUR = 3600


@pytest.fixture
def edit(owner_client, run_jobs) -> Edit:
    with run_jobs():
        owner_client.post(
            reverse("studio"),
            {"instruction": "sepia", "model": "gpt-4o-image", "images": [upload()]},
        )
    edit = Edit.objects.get()
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    return edit


def check_media(*args: str) -> tuple[int, str]:
    """The command's exit status and what it printed."""
    out = io.StringIO()
    try:
        call_command("check_media", *args, stdout=out)
    except CommandError as problem:
        return problem.returncode, f"{out.getvalue()}{problem}"
    return 0, out.getvalue()


@pytest.fixture
def clock(monkeypatch):
    """Move check_media's clock this many seconds past now (everything stored grows older)."""

    class Later:
        offset = 0.0

        @classmethod
        def time(cls) -> float:
            return time.time() + cls.offset

    monkeypatch.setattr(check_media_command, "time", Later)
    return Later


def orphan(name: str) -> str:
    """A file that no row names, stored now."""
    assert picture_storage().save(name, ContentFile(b"left behind")) == name
    return name


def stored(name: str) -> bool:
    return picture_storage().exists(name)


def test_a_clean_store_exits_0(edit):
    status, output = check_media()
    assert status == 0, output
    assert "Checked 2 stored pictures (6 files) against 6 files" in output
    assert "clean" in output


def test_an_empty_installation_is_clean(db):
    assert check_media()[0] == 0


def test_missing_files_are_named_with_their_edit(edit):
    result = edit.results.get()
    remove_stored(result.file.name)
    remove_stored(edit.sources.get().thumbnail.name)
    status, output = check_media()
    assert status == 1
    assert f"Missing file: {result.file.name} (file of result 1, edit {edit.pk}" in output
    assert "thumbnail of original 1" in output
    assert "owner" in output and "sepia" in output  # whose edit, and which
    assert "Found 2 missing file(s) in 1 edit(s)." in output
    # Reported only: nothing is deleted or changed for a missing file.
    assert check_media("--delete-orphans")[0] == 1
    assert edit.results.get().file.name == result.file.name


def test_orphans_are_deleted_only_when_asked(edit, clock):
    named = stored_names()
    old = orphan("results/2020/01/forgotten.png")
    clock.offset = 2 * HOUR
    status, output = check_media()
    assert status == 1
    assert "Orphan file: results/2020/01/forgotten.png" in output
    assert "Found 1 orphan file(s)." in output
    assert stored(old)

    status, output = check_media("--delete-orphans")
    assert status == 1  # found is found, for cron: it was there until just now
    assert "Deleted orphan file: results/2020/01/forgotten.png" in output
    assert not stored(old)
    assert stored_names() == named  # a file a row names is never touched
    assert check_media()[0] == 0


def test_a_young_file_nothing_names_yet_is_left_alone(edit, clock):
    young = orphan("originals/2030/01/being-written.jpg")
    clock.offset = 60
    status, output = check_media("--delete-orphans")
    assert status == 0, output
    assert stored(young)
    assert "Left alone 1 file(s) younger than 60 minutes" in output
    status, output = check_media("--delete-orphans", "--min-age", "0")
    assert (status, stored(young)) == (1, False)


def test_named_files_are_never_orphans_even_when_old(edit, clock):
    clock.offset = 30 * 24 * HOUR
    status, output = check_media("--delete-orphans", "--min-age", "0")
    assert status == 0, output
    assert len(stored_names()) == 6  # each picture, its thumbnail and its display rendition


@pytest.fixture
def in_memory(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def test_any_other_storage_is_listed_through_listdir(in_memory, edit):
    """Neither a folder nor a bucket: listed by listdir, each file's time asked of it."""
    assert isinstance(picture_storage(), InMemoryStorage)
    assert len(stored_names()) == 6  # each picture, its thumbnail and its display rendition
    assert check_media()[0] == 0
    orphan("results/2020/01/forgotten.png")
    status, output = check_media("--min-age", "0")
    assert status == 1
    assert "Orphan file: results/2020/01/forgotten.png" in output
    assert f"edit {edit.pk}" not in output  # nothing missing


def test_the_help_says_what_the_exit_status_means():
    from editor.management.commands.check_media import Command

    assert "0 when the store is clean and 1 when anything was found" in Command.help
    assert "cron" in Command.help
