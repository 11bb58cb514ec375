"""/api/v1/exports and /api/v1/imports: a gallery out as a ZIP and into another gallery."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from editor.models import Edit
from exports.archive import INDEX_JSON
from exports.models import GalleryExport
from tests.support.factories import upload


@pytest.fixture
def auth(owner_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}


@pytest.fixture
def edits(client, auth, run_jobs):
    for instruction in ("sepia", "[demo:fail=500] blur"):
        with run_jobs():
            client.post(
                reverse("api_edits"), {"instruction": instruction, "image": upload()}, **auth
            )
    return list(Edit.objects.order_by("created_at"))


def test_export_then_poll_then_download(client, auth, edits, run_jobs):
    with run_jobs():
        started = client.post("/api/v1/exports", **auth)
    assert started.status_code == 202
    body = started.json()
    polled = client.get(body["url"], **auth)
    assert polled.status_code == 200
    export = polled.json()
    assert export["status"] == "done" and export["progress"] == 100 and export["edits"] == 2
    download = client.get(export["download_url"], **auth)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    index = json.loads(archive.read(INDEX_JSON))
    assert [e["instruction"] for e in index["edits"]] == ["sepia", "[demo:fail=500] blur"]


def test_someone_elses_export_is_not_found_and_an_unfinished_one_not_ready(
    client, auth, owner, stranger
):
    theirs = GalleryExport.objects.create(owner=stranger, status="done")
    other = client.get(f"/api/v1/exports/{theirs.pk}", **auth)
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/exports/{theirs.pk}/download", **auth).status_code == 404
    mine = GalleryExport.objects.create(owner=owner, status="running")
    waiting = client.get(f"/api/v1/exports/{mine.pk}/download", **auth)
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "not_ready"
    assert client.get(f"/api/v1/exports/{mine.pk}").status_code == 401


def test_import_into_another_persons_gallery(client, auth, edits, run_jobs, stranger):
    with run_jobs():
        client.post("/api/v1/exports", **auth)
    export = GalleryExport.objects.get()
    zipped = b"".join(
        client.get(reverse("api_export_download", args=[export.pk]), **auth).streaming_content
    )
    theirs = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(stranger)[1]}"}
    archive = upload("gallery.zip", zipped, "application/zip")
    with run_jobs():
        response = client.post("/api/v1/imports", {"archive": archive}, **theirs)
    assert response.status_code == 202, response.content
    body = client.get(response.json()["url"], **theirs).json()
    assert body["status"] == "done" and body["edits"] == 2 and body["error"] is None
    listed = client.get(reverse("api_edits"), **theirs).json()["results"]
    sepia = next(e for e in listed if e["instruction"] == "sepia")
    imported = client.get(reverse("api_edit", args=[sepia["id"]]), **theirs).json()
    assert imported["instruction"] == "sepia" and imported["status"] == "succeeded"
    assert imported["share"] is None
    result = client.get(imported["results"][0]["url"], **theirs)
    original = edits[0].results.get()
    assert b"".join(result.streaming_content) == original.file.read()


def test_a_bad_archive_is_refused_with_its_reason(client, auth, run_jobs, media_root):
    with run_jobs():
        response = client.post(
            "/api/v1/imports", {"archive": upload("x.zip", b"not a zip", "application/zip")}, **auth
        )
    assert response.status_code == 202
    body = client.get(response.json()["url"], **auth).json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": "not_a_zip", "message": "This file is not a ZIP archive."}
    assert not any(p.is_file() for p in media_root.rglob("*"))  # the upload is not kept
    other = client.get("/api/v1/imports/00000000-0000-0000-0000-000000000000", **auth)
    assert other.status_code == 404
    missing = client.post("/api/v1/imports", {}, **auth)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "required"
    assert not Edit.objects.exists()
