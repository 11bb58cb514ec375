"""A gallery's options, chosen results, batches and comparisons leave in its ZIP and come back
with an import: into another person's gallery, as new edits in new groups."""

import csv
import io
import json
import zipfile

import pytest

from editor import services
from editor.models import Edit, EditGroup
from exports.archive import INDEX_CSV, INDEX_JSON, write_archive
from exports.importing import ImportRefused, import_archive
from gateway.options import RequestOptions
from imaging import inspect_upload
from tests.support.factories import image_bytes, upload
from tests.support.stored import own_bucket  # noqa: F401  (autouse)


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def index_of(*edits: dict) -> bytes:
    return json.dumps({"format": "gaitu-gallery", "version": 1, "edits": list(edits)}).encode()


def an_edit(**fields) -> dict:
    """An edit as an archive from before options, several results and groups lists it."""
    return {
        "instruction": "sepia",
        "model": "m",
        "status": "failed",
        "created": "2026-01-01T00:00:00+00:00",
        "originals": [{"file": "originals/a.jpg"}],
        **fields,
    }


def a_gallery(owner, run_jobs) -> tuple[EditGroup, EditGroup]:
    with run_jobs():
        comparison = services.submit_comparison(
            owner,
            instruction="a lighthouse",
            models=["gpt-4o-image", "gpt-image-1"],
            uploads=[],
            options=RequestOptions(size="16:9", n=2, quality="high"),
        )
        pictures = [upload("a.jpg"), upload("b.jpg")]
        batch = services.submit_batch(
            owner,
            instruction="sepia",
            model="gpt-4o-image",
            uploads=[(picture, _info(picture)) for picture in pictures],
        )
    _first, second = comparison.edits.order_by("created_at")
    assert services.choose_result(second, 1)
    assert services.choose_winner(comparison, second)
    return comparison, batch


def _info(picture):
    return inspect_upload(picture, max_bytes=2**24, max_pixels=10**8)


def exported(owner) -> zipfile.ZipFile:
    out = io.BytesIO()
    write_archive(owner, out)
    return zipfile.ZipFile(out)


def test_the_index_carries_options_choices_and_groups(owner, run_jobs):
    comparison, batch = a_gallery(owner, run_jobs)
    archive = exported(owner)
    entries = {entry["id"]: entry for entry in json.loads(archive.read(INDEX_JSON))["edits"]}
    first, second = comparison.edits.order_by("created_at")
    assert entries[str(second.pk)]["options"] == {"size": "16:9", "n": 2, "quality": "high"}
    assert len(entries[str(second.pk)]["results"]) == 2
    assert (entries[str(first.pk)]["chosen"], entries[str(second.pk)]["chosen"]) == (0, 1)
    assert entries[str(second.pk)]["group"] == {
        "id": str(comparison.pk),
        "kind": "comparison",
        "instruction": "a lighthouse",
        "winner": True,
    }
    assert entries[str(first.pk)]["group"]["winner"] is False
    assert entries[str(first.pk)]["originals"] == []  # made from the words alone
    in_batch = [
        entry for entry in entries.values() if (entry["group"] or {}).get("kind") == "batch"
    ]
    assert len(in_batch) == 2 and {entry["group"]["id"] for entry in in_batch} == {str(batch.pk)}
    assert all(entry["options"] == {} for entry in in_batch)

    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(archive.read(INDEX_CSV).decode()))}
    assert rows[str(second.pk)]["chosen"] == "1"
    assert (rows[str(second.pk)]["group_kind"], rows[str(second.pk)]["winner"]) == (
        "comparison",
        "True",
    )
    assert json.loads(rows[str(second.pk)]["options"])["n"] == 2


def test_a_round_trip_keeps_them(owner, stranger, run_jobs):
    a_gallery(owner, run_jobs)
    out = io.BytesIO()
    write_archive(owner, out)
    import_archive(stranger, upload("gallery.zip", out.getvalue(), "application/zip"))

    groups = {group.kind: group for group in EditGroup.objects.filter(owner=stranger)}
    assert set(groups) == {"batch", "comparison"}
    comparison = groups["comparison"]
    assert comparison.instruction == "a lighthouse"
    compared = list(comparison.edits.order_by("created_at"))
    assert [edit.model for edit in compared] == ["gpt-4o-image", "gpt-image-1"]
    assert [edit.chosen for edit in compared] == [0, 1]
    assert compared[1].chosen_result.position == 1
    assert comparison.winner == compared[1]
    asked = RequestOptions("16:9", 2, "high")
    assert all(RequestOptions.from_json(edit.options) == asked for edit in compared)
    assert all(edit.is_generation for edit in compared)
    assert groups["batch"].edits.count() == 2 and groups["batch"].winner is None
    # New groups, never the owner's.
    assert not set(groups.values()) & set(EditGroup.objects.filter(owner=owner))


def test_an_archive_from_before_groups_imports_as_it_did(owner):
    files = {"gaitu-index.json": index_of(an_edit()), "originals/a.jpg": image_bytes()}
    import_archive(owner, upload("old.zip", zip_of(files), "application/zip"))
    edit = Edit.objects.get()
    assert (edit.options, edit.chosen, edit.group) == ({}, 0, None)


def test_what_an_index_says_of_them_is_checked(owner):
    odd = an_edit(options={"size": "huge", "n": 99}, chosen=5, group=None)
    files = {"gaitu-index.json": index_of(odd), "originals/a.jpg": image_bytes()}
    import_archive(owner, upload("odd.zip", zip_of(files), "application/zip"))
    edit = Edit.objects.get()
    # Options this Gaitu would not take are dropped; a choice past the results is the first.
    assert (edit.options, edit.chosen) == ({}, 0)


def test_a_group_of_two_kinds_is_refused(owner):
    edits = [
        an_edit(group={"id": "g1", "kind": "batch"}),
        an_edit(group={"id": "g1", "kind": "comparison"}, originals=[{"file": "originals/b.jpg"}]),
    ]
    files = {
        "gaitu-index.json": index_of(*edits),
        "originals/a.jpg": image_bytes(),
        "originals/b.jpg": image_bytes(),
    }
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("odd.zip", zip_of(files), "application/zip"))
    assert refused.value.code == "invalid_index"
    assert not Edit.objects.exists() and not EditGroup.objects.exists()
