"""`manage.py check_media`: the picture store against the database, for people and for cron."""

import io
import os
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from editor.models import Edit
from tests.support.factories import upload

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


def orphan(name: str, age: float = 2 * HOUR):
    path = settings.MEDIA_ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_clean_store_exits_0(edit):
    status, output = check_media()
    assert status == 0, output
    assert "Checked 2 stored pictures (4 files) against 4 files" in output
    assert "clean" in output


def test_an_empty_installation_is_clean(db):
    assert check_media()[0] == 0


def test_missing_files_are_named_with_their_edit(edit):
    result = edit.results.get()
    (settings.MEDIA_ROOT / result.file.name).unlink()
    (settings.MEDIA_ROOT / edit.sources.get().thumbnail.name).unlink()
    status, output = check_media()
    assert status == 1
    assert f"Missing file: {result.file.name} (file of result 1, edit {edit.pk}" in output
    assert "thumbnail of original 1" in output
    assert "owner" in output and "sepia" in output  # whose edit, and which
    assert "Found 2 missing file(s) in 1 edit(s)." in output
    # Reported only: nothing is deleted or changed for a missing file.
    assert check_media("--delete-orphans")[0] == 1
    assert edit.results.get().file.name == result.file.name


def test_orphans_are_deleted_only_when_asked(edit):
    named = sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    old = orphan("results/2020/01/forgotten.png")
    status, output = check_media()
    assert status == 1
    assert "Orphan file: results/2020/01/forgotten.png" in output
    assert "Found 1 orphan file(s)." in output
    assert old.exists()

    status, output = check_media("--delete-orphans")
    assert status == 1  # found is found, for cron: it was there until just now
    assert "Deleted orphan file: results/2020/01/forgotten.png" in output
    assert not old.exists()
    assert all(path.exists() for path in named)  # a file a row names is never touched
    assert check_media()[0] == 0


def test_a_young_file_nothing_names_yet_is_left_alone(edit):
    young = orphan("originals/2030/01/being-written.jpg", age=60)
    status, output = check_media("--delete-orphans")
    assert status == 0, output
    assert young.exists()
    assert "Left alone 1 file(s) younger than 60 minutes" in output
    status, output = check_media("--delete-orphans", "--min-age", "0")
    assert (status, young.exists()) == (1, False)


def test_named_files_are_never_orphans_even_when_old(edit):
    for path in settings.MEDIA_ROOT.rglob("*"):
        if path.is_file():
            os.utime(path, (time.time() - 30 * 24 * HOUR,) * 2)
    status, output = check_media("--delete-orphans", "--min-age", "0")
    assert status == 0, output
    assert len([p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]) == 4


def test_the_help_says_what_the_exit_status_means():
    from editor.management.commands.check_media import Command

    assert "0 when the store is clean and 1 when anything was found" in Command.help
    assert "cron" in Command.help
