"""Pictures in an S3 bucket (GAITU_S3_BUCKET), against a real S3 server: s3rver, the scale-out
profile's own or, in the embedded profile, one started for these tests.

Each test keeps its pictures in a new bucket, with the options the scale-out profile's
settings give (webapp/settings/scale.py), and looks at what the bucket holds with boto3 alone.
"""

import io
import json
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from editor.models import Edit, SourceImage
from editor.picture_store import is_bucket, open_stream, stored_files, where
from exports.models import GalleryExport, GalleryImport
from studio.views.media import MEDIA_CSP, OWNER_CACHE, SHARE_CACHE, picture_response
from tests.api.test_api import create
from tests.support.disk import say_free_space
from tests.support.factories import upload
from tests.support.stored import (
    bucket_objects,
    new_bucket,
    picture_storage,
    s3_client,
    s3_endpoint,  # noqa: F401  (the session's S3 server)
    stored_bytes,
    use_bucket,
)
from tests.web.test_check_media import check_media
from tests.web.test_streaming import relayed

MEDIA = [
    (kind, variant) for kind in ("source", "result") for variant in ("full", "thumb", "download")
]
HOUR = 3600


@dataclass
class Bucket:
    endpoint: str
    name: str

    def objects(self) -> dict[str, bytes]:
        return bucket_objects(self.endpoint, self.name)

    def put(self, key: str, data: bytes) -> None:
        s3_client(self.endpoint).put_object(Bucket=self.name, Key=key, Body=data)

    def delete(self, key: str) -> None:
        s3_client(self.endpoint).delete_object(Bucket=self.name, Key=key)


@pytest.fixture(autouse=True)
def bucket(settings, s3_endpoint) -> Bucket:  # noqa: F811  (the fixture imported above)
    name = new_bucket(s3_endpoint)
    use_bucket(settings, s3_endpoint, name)
    return Bucket(s3_endpoint, name)


def files_on_disk(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def finished_edit(client: Client, run_jobs, instruction: str = "sepia") -> Edit:
    with run_jobs():
        client.post(reverse("studio"), {"instruction": instruction, "images": [upload()]})
    edit = Edit.objects.latest("created_at")
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    return edit


def names_of(edit: Edit) -> set[str]:
    pictures = [*edit.sources.all(), *edit.results.all()]
    names = (name for p in pictures for name in (p.file.name, p.thumbnail.name, p.display.name))
    return {name for name in names if name}  # an imported picture has no display rendition


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_edit_keeps_its_pictures_in_the_bucket_and_none_on_the_disk(
    owner_client, run_jobs, bucket, settings
):
    assert is_bucket(picture_storage())
    edit = finished_edit(owner_client, run_jobs)
    source, result = edit.sources.get(), edit.results.get()
    assert source.metadata_removed and source.thumbnail and result.thumbnail
    objects = bucket.objects()
    # The original (cleaned; the upload is gone), the result, both thumbnails and both display
    # renditions: nothing else.
    assert set(objects) == names_of(edit)
    assert source.file.name.startswith("originals/") and result.file.name.startswith("results/")
    assert objects[result.file.name] == stored_bytes(result.file.name)
    files = (source.file, source.thumbnail, source.display)
    assert source.size == sum(len(objects[stored.name]) for stored in files)
    assert files_on_disk(settings) == []


def test_the_media_view_relays_the_bucket_with_the_disks_headers_to_the_owner_only(
    owner_client, stranger, run_jobs, bucket, settings
):
    edit = finished_edit(owner_client, run_jobs)
    objects = bucket.objects()
    urls = [reverse("media", args=[edit.pk, kind, 0, variant]) for kind, variant in MEDIA]
    from_bucket = {url: owner_client.get(url) for url in urls}
    bodies = {url: body_of(response) for url, response in from_bucket.items()}
    for url, response in from_bucket.items():
        assert response.status_code == 200, url
        body = bodies[url]
        assert body in objects.values(), url  # the object's own bytes
        assert response["Content-Length"] == str(len(body))
        assert response["Content-Security-Policy"] == MEDIA_CSP
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == OWNER_CACHE
    assert from_bucket[urls[2]]["Content-Disposition"].startswith("attachment; filename=")
    assert from_bucket[urls[0]]["Content-Disposition"].startswith("inline; filename=")

    # The same files on the disk: the same answers, header for header.
    disk = FileSystemStorage(location=settings.MEDIA_ROOT)
    for name, data in objects.items():
        disk.save(name, io.BytesIO(data))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    for url in urls:
        from_disk = owner_client.get(url)
        assert dict(from_disk.headers) == dict(from_bucket[url].headers), url
        assert body_of(from_disk) == bodies[url]

    use_bucket(settings, bucket.endpoint, bucket.name)
    other = Client()
    other.force_login(stranger)
    for url in urls:
        assert other.get(url).status_code == 404, url  # not theirs: not even that it exists
        assert Client().get(url).status_code == 404, url


def test_the_share_page_and_its_opengraph_image_come_from_the_bucket(
    owner_client, run_jobs, bucket
):
    edit = finished_edit(owner_client, run_jobs)
    owner_client.post(reverse("edit_share", args=[edit.pk]), {"show_original": "1"})
    token = edit.share.token
    visitor = Client()
    page = visitor.get(reverse("shared", args=[token]))
    assert page.status_code == 200
    image = re.search(r'property="og:image" content="http://testserver([^"]+)"', page.text)
    assert image, page.text
    picture = visitor.get(image.group(1))
    assert picture.status_code == 200
    assert body_of(picture) == bucket.objects()[edit.results.get().file.name]
    assert picture["Cache-Control"] == SHARE_CACHE
    assert picture["Content-Security-Policy"] == MEDIA_CSP
    # Nothing of the bucket in the page: no link into it, signed or not.
    assert bucket.name not in page.text and bucket.endpoint not in page.text
    assert "X-Amz-" not in page.text and "Signature=" not in page.text

    owner_client.post(reverse("edit_unshare", args=[edit.pk]))
    assert visitor.get(image.group(1)).status_code == 404


@pytest.mark.parametrize("api", [False, True])
def test_a_bucket_that_refuses_the_picture_is_a_clear_refusal_and_keeps_nothing(
    client,
    owner_client,
    owner_token,
    run_jobs,
    settings,
    s3_endpoint,  # noqa: F811  (the fixture imported above)
    api,
):
    use_bucket(settings, s3_endpoint, "gaitu-never-made")  # NoSuchBucket, for every write
    if api:
        response = create(client, owner_token, run_jobs)
    else:
        with run_jobs():
            response = owner_client.post(
                reverse("studio"), {"instruction": "sepia", "images": [upload()]}
            )
    assert response.status_code == 507
    if api:
        assert response.json()["error"]["code"] == "storage_error"
    else:
        assert "could not be stored" in response.text
    assert not Edit.objects.exists()
    assert files_on_disk(settings) == []


def test_deleting_an_edit_removes_its_objects(
    owner_client, run_jobs, bucket, django_capture_on_commit_callbacks
):
    kept = finished_edit(owner_client, run_jobs, "keep me")
    gone = finished_edit(owner_client, run_jobs, "delete me")
    assert set(bucket.objects()) == names_of(kept) | names_of(gone)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("edit_delete", args=[gone.pk]))
    assert set(bucket.objects()) == names_of(kept)


def test_a_missing_object_is_a_placeholder_or_a_404(owner_client, run_jobs, bucket):
    edit = finished_edit(owner_client, run_jobs)
    for name in names_of(edit):
        bucket.delete(name)
    for kind, variant in MEDIA:
        response = owner_client.get(reverse("media", args=[edit.pk, kind, 0, variant]))
        if variant == "thumb":
            assert (response.status_code, response["Content-Type"]) == (200, "image/svg+xml")
        else:
            assert response.status_code == 404
    assert owner_client.get(reverse("edit_detail", args=[edit.pk])).status_code == 200


def test_under_asgi_a_picture_is_relayed_from_the_bucket_a_block_at_a_time(
    owner_client, run_jobs, bucket
):
    edit = finished_edit(owner_client, run_jobs)
    result = edit.results.get()
    big = bytes(range(256)) * 1024  # 256 KiB: many blocks
    bucket.put(result.file.name, big)
    response = picture_response(result, "result", "full", shared=False)
    response.block_size = 4096
    assert int(response["Content-Length"]) == len(big)
    # What had come from the bucket when the first block went out: that block.
    read_by_then, body = relayed(response, response.file_to_stream.tell)
    response.close()
    assert read_by_then == 4096
    assert body == big


def test_a_stored_stream_of_the_bucket_is_the_objects_body(bucket):
    storage = picture_storage()
    bucket.put("results/2026/01/x.png", b"\x89PNG picture")
    stored = open_stream(storage, "results/2026/01/x.png")
    assert stored.size == 12 and stored.body.read() == b"\x89PNG picture"
    with pytest.raises(FileNotFoundError):
        open_stream(storage, "results/2026/01/not-there.png")
    assert where(storage) == f"s3://{bucket.name}/"


# --- Export and import ---------------------------------------------------------------------


def test_the_export_zip_holds_the_pictures_of_the_bucket_and_imports_into_it(
    owner_client, stranger, run_jobs, bucket, settings
):
    edit = finished_edit(owner_client, run_jobs)
    with run_jobs():
        owner_client.post(reverse("export_start"))
    export = GalleryExport.objects.get()
    assert export.status == "done", export.error
    objects = bucket.objects()
    assert export.file.name in objects  # the ZIP itself is kept in the bucket
    response = owner_client.get(reverse("export_download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(objects[export.file.name]))
    zipped = body_of(response)
    assert zipped == objects[export.file.name]
    archive = zipfile.ZipFile(io.BytesIO(zipped))
    entry = json.loads(archive.read("gaitu-index.json"))["edits"][0]
    source, result = edit.sources.get(), edit.results.get()
    assert archive.read(entry["originals"][0]["file"]) == objects[source.file.name]
    assert archive.read(entry["results"][0]["file"]) == objects[result.file.name]

    other = Client()
    other.force_login(stranger)
    with run_jobs():
        other.post(
            reverse("import_gallery"), {"archive": upload("g.zip", zipped, "application/zip")}
        )
    assert GalleryImport.objects.get().status == "done"
    theirs = Edit.objects.get(owner=stranger)
    after = bucket.objects()
    # Their copies are objects of their own; the uploaded archive is gone again.
    assert set(after) == names_of(edit) | names_of(theirs) | {export.file.name}
    assert after[theirs.results.get().file.name] == objects[result.file.name]
    assert files_on_disk(settings) == []


# --- check_media, backup ---------------------------------------------------------------------


def test_check_media_lists_the_bucket_finding_a_missing_object_and_a_stray_one(
    owner_client, run_jobs, bucket
):
    edit = finished_edit(owner_client, run_jobs)
    status, output = check_media()
    assert status == 0, output
    assert f"Checked 2 stored pictures (6 files) against 6 files in s3://{bucket.name}/" in output

    result = edit.results.get()
    bucket.delete(result.file.name)
    bucket.put("results/2020/01/forgotten.png", b"left behind")
    status, output = check_media()  # the stray one is new: it may be on its way
    assert status == 1
    assert f"Missing file: {result.file.name} (file of result 1, edit {edit.pk}" in output
    assert "Left alone 1 file(s) younger than 60 minutes" in output
    assert "forgotten.png" not in output

    status, output = check_media("--delete-orphans", "--min-age", "0")
    assert status == 1
    assert "Deleted orphan file: results/2020/01/forgotten.png" in output
    assert "Found 1 missing file(s) in 1 edit(s) and 1 orphan file(s) (deleted)." in output
    assert set(bucket.objects()) == names_of(edit) - {result.file.name}


def test_check_media_reads_each_objects_time_from_the_listing(db, bucket, monkeypatch):
    bucket.put("results/2020/01/forgotten.png", b"left behind")
    (modified,) = stored_files(picture_storage()).values()
    # An hour on, the stray object is an orphan under the default --min-age.
    import editor.management.commands.check_media as command

    later = modified + HOUR + 60
    monkeypatch.setattr(command, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    status, output = check_media()
    assert status == 1
    assert "Orphan file: results/2020/01/forgotten.png" in output


# Not inside the test's transaction: the backup's dump sets its own isolation level.
@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_the_pictures_copied_from_the_bucket(
    owner_client, run_jobs, bucket, tmp_path, settings
):
    settings.DATA_DIR = tmp_path
    edit = finished_edit(owner_client, run_jobs)
    archive = tmp_path / "backup.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), "--format", "json", stdout=out, stderr=io.StringIO())
    assert "and 6 stored files" in out.getvalue()
    objects = bucket.objects()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        members = {
            name.removeprefix("media/"): tar.extractfile(name).read()
            for name in tar.getnames()
            if name.startswith("media/")
        }
    assert members == {name: objects[name] for name in names_of(edit)}
    assert manifest["missing"] == []
    assert not list(tmp_path.glob(".backup-*"))  # its staging folder went with it


@pytest.mark.django_db(transaction=True)
def test_an_object_replaced_while_the_backup_copies_means_a_fresh_dump(
    owner_client, run_jobs, bucket, tmp_path, settings, monkeypatch
):
    """As when an edit finishes during the backup: its row names the cleaned original now,
    and the object the first dump named is gone."""
    from webapp.management.commands.backup import Command

    settings.DATA_DIR = tmp_path
    source = finished_edit(owner_client, run_jobs).sources.get()
    storage, before = picture_storage(), source.file.name
    real_pin = Command.pin

    def pin(self, name, staging):
        if name == before and storage.exists(before):
            after = storage.save("originals/2026/01/cleaned-meanwhile.jpg", io.BytesIO(b"new"))
            SourceImage.objects.filter(pk=source.pk).update(file=after)
            storage.delete(before)
        return real_pin(self, name, staging)

    monkeypatch.setattr(Command, "pin", pin)
    archive, out = tmp_path / "backup.tar.gz", io.StringIO()
    call_command("backup", str(archive), "--format", "json", stdout=out, stderr=io.StringIO())
    assert "taking a fresh snapshot" in out.getvalue()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        member = tar.extractfile("media/originals/2026/01/cleaned-meanwhile.jpg").read()
        dumped = json.load(tar.extractfile("data.json"))
    assert manifest["missing"] == [] and member == b"new"
    assert f"media/{before}" not in manifest["files"]
    (row,) = [r for r in dumped if r["model"] == "editor.sourceimage"]
    assert row["fields"]["file"] == "originals/2026/01/cleaned-meanwhile.jpg"


@pytest.mark.django_db(transaction=True)
def test_a_backup_names_an_object_gone_from_the_bucket(
    owner_client, run_jobs, bucket, tmp_path, settings
):
    settings.DATA_DIR = tmp_path
    edit = finished_edit(owner_client, run_jobs)
    gone = edit.results.get().file.name
    bucket.delete(gone)
    errors = io.StringIO()
    call_command(
        "backup", str(tmp_path / "b.tar.gz"), "--format", "json", stdout=io.StringIO(),
        stderr=errors,
    )  # fmt: skip
    assert f"Missing from the picture store, so not in the backup: {gone}" in errors.getvalue()


# --- The free-space floor ------------------------------------------------------------------


def test_the_free_space_floor_watches_the_temporary_folder(
    owner_client, run_jobs, settings, tmp_path, monkeypatch
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    settings.GAITU_MIN_FREE_MB = 500
    looked: list[str] = []
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: looked.append(path) or real(path))
    finished_edit(owner_client, run_jobs)
    assert looked == [tmp_path / "spool"]

    say_free_space(monkeypatch, 499)
    with run_jobs():
        response = owner_client.post(
            reverse("studio"), {"instruction": "blur", "images": [upload()]}
        )
    assert response.status_code == 507
    assert "running out of disk space" in response.text
