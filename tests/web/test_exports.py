"""The gallery as a ZIP and back: the builder, the account page's export and import, and the
archives an import must refuse, whole."""

import csv
import io
import json
import tempfile
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from editor.models import Edit, ResultImage, Share, SourceImage
from exports.archive import INDEX_CSV, INDEX_JSON, write_archive
from exports.importing import ImportRefused, import_archive
from exports.models import GalleryExport
from tests.support.factories import image_bytes, upload
from tests.support.stored import own_bucket, picture_storage, stored_names  # noqa: F401  (autouse)


def make_edits(client: Client, run_jobs, *instructions: str) -> list[Edit]:
    for instruction in instructions:
        with run_jobs():
            client.post(reverse("studio"), {"instruction": instruction, "images": [upload()]})
    return list(Edit.objects.order_by("created_at"))


@pytest.fixture
def gallery(owner_client, run_jobs) -> list[Edit]:
    edits = make_edits(owner_client, run_jobs, "sepia", "[demo:fail=500] blur")
    assert [e.status for e in edits] == ["succeeded", "failed"]
    Share.objects.create(edit=edits[0], show_original=False, show_instruction=True)
    return edits


def export_zip(owner_client, run_jobs) -> bytes:
    with run_jobs():
        assert owner_client.post(reverse("export_start")).status_code == 302
    export = GalleryExport.objects.get()
    assert export.status == "done" and export.progress == 100
    response = owner_client.get(reverse("export_download", args=[export.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def stored_pictures() -> set[str]:
    """The names of the stored files other than export archives."""
    return {name for name in stored_names() if not name.startswith("exports/")}


# --- The builder -----------------------------------------------------------------------------


def test_the_archive_holds_every_picture_and_both_indexes(owner, gallery):
    out = io.BytesIO()
    assert write_archive(owner, out) == 2
    archive = zipfile.ZipFile(out)
    names = set(archive.namelist())
    index = json.loads(archive.read(INDEX_JSON))
    assert index["format"] == "gaitu-gallery" and index["version"] == 1
    done, failed = index["edits"]
    assert done["id"] == str(gallery[0].pk) and done["instruction"] == "sepia"
    assert done["status"] == "succeeded" and failed["status"] == "failed"
    assert done["share"] == {"shared": True, "show_original": False, "show_instruction": True}
    assert failed["share"]["shared"] is False
    assert Share.objects.get().token not in archive.read(INDEX_JSON).decode()
    result = ResultImage.objects.get(edit=gallery[0])
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
    assert done["results"] == [
        {
            "file": f"results/{gallery[0].pk}-1.{extension[result.content_type]}",
            "width": result.width,
            "height": result.height,
            "content_type": result.content_type,
        }
    ]
    assert archive.read(done["results"][0]["file"]) == result.file.read()
    for entry in index["edits"]:
        for picture in entry["originals"] + entry["results"]:
            assert picture["file"] in names
            # Pictures are compressed already: stored, not deflated again.
            assert archive.getinfo(picture["file"]).compress_type == zipfile.ZIP_STORED
    rows = list(csv.DictReader(io.StringIO(archive.read(INDEX_CSV).decode())))
    assert [r["instruction"] for r in rows] == ["sepia", "[demo:fail=500] blur"]
    assert rows[0]["shared"] == "True" and rows[0]["results"] == done["results"][0]["file"]
    assert rows[0]["original_sizes"] == "64x48"


def test_originals_leave_without_their_metadata(owner, gallery):
    out = io.BytesIO()
    write_archive(owner, out)
    archive = zipfile.ZipFile(out)
    source = SourceImage.objects.get(edit=gallery[0])
    entry = json.loads(archive.read(INDEX_JSON))["edits"][0]
    assert archive.read(entry["originals"][0]["file"]) == source.cleaned_bytes()


def test_the_builder_streams_file_by_file(owner, gallery):
    # A big result (8 MiB): the builder's memory must not grow with it.
    big = ResultImage.objects.get(edit=gallery[0])
    payload = b"\x00" * (8 * 2**20)
    with big.file.open("wb") as stored:
        stored.write(payload)
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        write_archive(owner, out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out.seek(0)
        archive = zipfile.ZipFile(out)
        entry = json.loads(archive.read(INDEX_JSON))["edits"][0]["results"][0]["file"]
        assert archive.getinfo(entry).file_size == len(payload)
    assert peak < 4 * 2**20


# --- The account page ------------------------------------------------------------------------


def test_the_account_page_exports_shows_progress_and_downloads(owner_client, gallery, run_jobs):
    page = owner_client.get(reverse("account"))
    assert "Export my gallery" in page.text and reverse("export_start") in page.text
    zipped = export_zip(owner_client, run_jobs)
    assert INDEX_JSON in zipfile.ZipFile(io.BytesIO(zipped)).namelist()
    export = GalleryExport.objects.get()
    page = owner_client.get(reverse("account"))
    assert reverse("export_download", args=[export.pk]) in page.text
    response = owner_client.get(reverse("export_download", args=[export.pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="gaitu-gallery-')
    assert response["Content-Type"] == "application/zip"


def test_an_import_in_progress_polls_its_status(owner_client, owner):
    from exports.models import GalleryImport

    job = GalleryImport.objects.create(owner=owner, status="running", progress=30)
    page = owner_client.get(reverse("account"))
    assert reverse("import_status", args=[job.pk]) in page.text
    partial = owner_client.get(reverse("import_status", args=[job.pk]))
    assert 'hx-trigger="every 1s"' in partial.text and "30%" in partial.text
    other = GalleryImport.objects.create(owner=owner, status="failed", error="Nope.")
    assert "Nope." in owner_client.get(reverse("import_status", args=[other.pk])).text


def test_the_status_partial_polls_while_running_and_stops_when_done(owner_client, owner):
    export = GalleryExport.objects.create(owner=owner, status="running", progress=40)
    partial = owner_client.get(reverse("export_status", args=[export.pk]))
    assert 'hx-trigger="every 1s"' in partial.text and "40%" in partial.text
    assert "<progress" in partial.text and "style=" not in partial.text
    page = owner_client.get(reverse("account"))
    assert "Export my gallery" not in page.text  # one at a time
    export.status, export.progress = "done", 100
    export.finished_at = timezone.now()
    export.save()
    partial = owner_client.get(reverse("export_status", args=[export.pk]))
    assert "hx-trigger" not in partial.text


def test_a_stale_export_counts_as_stopped(owner_client, owner):
    GalleryExport.objects.create(
        owner=owner, status="running", updated_at=timezone.now() - timedelta(hours=1)
    )
    page = owner_client.get(reverse("account"))
    assert "stopped before it was finished" in page.text
    assert "Export my gallery" in page.text


def test_only_the_owner_downloads_and_not_after_it_expired(
    owner_client, gallery, run_jobs, stranger
):
    export_zip(owner_client, run_jobs)
    export = GalleryExport.objects.get()
    other = Client()
    other.force_login(stranger)
    assert other.get(reverse("export_download", args=[export.pk])).status_code == 404
    assert other.get(reverse("export_status", args=[export.pk])).status_code == 404
    assert Client().get(reverse("export_download", args=[export.pk])).status_code == 302  # login
    GalleryExport.objects.update(finished_at=timezone.now() - timedelta(hours=25))
    assert owner_client.get(reverse("export_download", args=[export.pk])).status_code == 404


def test_a_new_export_replaces_the_previous_archive(owner_client, gallery, run_jobs):
    export_zip(owner_client, run_jobs)
    first = GalleryExport.objects.get()
    assert picture_storage().exists(first.file.name)
    with run_jobs():
        owner_client.post(reverse("export_start"))
    assert GalleryExport.objects.get().pk != first.pk
    assert not picture_storage().exists(first.file.name)


def test_exporting_is_post_only(owner_client):
    assert owner_client.get(reverse("export_start")).status_code == 405


# --- Importing -------------------------------------------------------------------------------


def test_a_round_trip_into_another_persons_gallery(owner_client, gallery, run_jobs, stranger):
    zipped = export_zip(owner_client, run_jobs)
    other = Client()
    other.force_login(stranger)
    with run_jobs():
        response = other.post(
            reverse("import_gallery"), {"archive": upload("gallery.zip", zipped, "application/zip")}
        )
    assert response.status_code == 302 and response["Location"] == reverse("account")
    assert "2 edits were added to your gallery." in other.get(reverse("account")).text
    theirs = list(Edit.objects.filter(owner=stranger).order_by("created_at"))
    mine = list(Edit.objects.filter(owner__username="owner").order_by("created_at"))
    assert [e.instruction for e in theirs] == [e.instruction for e in mine]
    assert [e.status for e in theirs] == ["succeeded", "failed"]
    assert {e.pk for e in theirs}.isdisjoint({e.pk for e in mine})
    assert not Share.objects.filter(edit__owner=stranger).exists()
    for before, after in zip(mine, theirs, strict=True):
        assert after.created_at == before.created_at
        for kind in ("sources", "results"):
            old = list(getattr(before, kind).all())
            new = list(getattr(after, kind).all())
            assert [i.file.read() for i in new] == [
                (i.cleaned_bytes() if kind == "sources" else i.file.read()) for i in old
            ]
            assert all(i.thumbnail and i.display for i in new)
            assert all(i.size == i.file.size + i.thumbnail.size + i.display.size for i in new)
    assert theirs[1].error_code == mine[1].error_code
    # Their gallery shows them, and their pictures answer to them only.
    assert "sepia" in other.get(reverse("gallery")).text
    picture = reverse("media", args=[theirs[0].pk, "result", 0, "full"])
    assert other.get(picture).status_code == 200
    assert owner_client.get(picture).status_code == 404


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def index_of(*edits: dict) -> bytes:
    return json.dumps({"format": "gaitu-gallery", "version": 1, "edits": list(edits)}).encode()


def an_edit(original: str = "originals/a.jpg", **fields) -> dict:
    return {
        "instruction": "sepia",
        "model": "m",
        "status": "failed",
        "created": "2026-01-01T00:00:00+00:00",
        "originals": [{"file": original}],
        **fields,
    }


HOSTILE = {
    "zip-slip": (
        {"gaitu-index.json": index_of(an_edit("../evil.jpg")), "../evil.jpg": image_bytes()},
        "unsafe_name",
    ),
    "absolute name": ({"/etc/evil": b"x", "gaitu-index.json": index_of()}, "unsafe_name"),
    "not Gaitu's": ({"index.json": b"{}", "a.jpg": image_bytes()}, "not_gaitu"),
    "another format": ({"gaitu-index.json": b'{"format": "other"}'}, "not_gaitu"),
    "a bad index": (
        {"gaitu-index.json": index_of(an_edit(status="running"))},
        "invalid_index",
    ),
    "a missing picture": ({"gaitu-index.json": index_of(an_edit())}, "missing_picture"),
    "a non-picture": (
        {
            "gaitu-index.json": index_of(an_edit(), an_edit("originals/b.jpg")),
            "originals/a.jpg": image_bytes(),
            "originals/b.jpg": b"%PDF-1.4 not a picture",
        },
        "invalid_picture",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_archives_are_refused_and_nothing_is_kept(owner, case):
    files, code = HOSTILE[case]
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("g.zip", zip_of(files), "application/zip"))
    assert refused.value.code == code
    assert not Edit.objects.exists() and not SourceImage.objects.exists()
    assert stored_pictures() == set()


def test_a_non_picture_is_named_on_the_account_page(owner_client, run_jobs):
    files, _code = HOSTILE["a non-picture"]
    with run_jobs():
        owner_client.post(
            reverse("import_gallery"),
            {"archive": upload("g.zip", zip_of(files), "application/zip")},
        )
    response = owner_client.get(reverse("account"))
    assert "The gallery was not imported" in response.text
    assert "originals/b.jpg in the archive:" in response.text
    assert "PDF" in response.text
    # Nothing kept: no edit, no picture, and not the upload either.
    assert not Edit.objects.exists() and stored_pictures() == set()
    assert stored_names() == []


def test_not_a_zip_and_too_large_are_refused(owner, settings, monkeypatch):
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("g.zip", b"PK not really", "application/zip"))
    assert refused.value.code == "not_a_zip"
    monkeypatch.setattr("exports.importing.IMPORT_MAX_MB", 1)
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("g.zip", b"\x00" * (2 * 2**20), "application/zip"))
    assert refused.value.code == "too_large"
    assert "1 MB" in refused.value.message


def test_a_picture_bigger_than_its_directory_claims_is_cut_off(owner, settings):
    settings.GAITU_UPLOAD_MAX_MB = 1
    big = b"\xff\xd8" + b"\x00" * (3 * 2**20)
    with pytest.raises(ImportRefused) as refused:
        import_archive(
            owner,
            upload(
                "g.zip",
                zip_of({"gaitu-index.json": index_of(an_edit()), "originals/a.jpg": big}),
                "application/zip",
            ),
        )
    assert refused.value.code in ("invalid_picture", "too_large")
    assert stored_pictures() == set()


def test_a_spreadsheet_shows_an_instruction_as_text_never_as_a_formula():
    from exports.archive import _as_text

    assert _as_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [_as_text(c)[:1] for c in ("+1", "-1", "@SUM(A1)")] == ["'", "'", "'"]
    assert _as_text("把背景换成蓝天白云") == "把背景换成蓝天白云"
