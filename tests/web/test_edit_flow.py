"""Whole edits through the studio, the job and the demo gateway, over real local sockets."""

import io
from contextlib import nullcontext

import pytest
from django.urls import reverse
from PIL import Image

from editor.models import Edit
from tests.support.factories import image_bytes, upload
from tests.support.stored import own_bucket, stored_bytes, stored_names  # noqa: F401  (autouse)


def submit(client, run_jobs, instruction="make it black and white", files=None, htmx=True):
    data = {"instruction": instruction, "model": "gpt-4o-image"}
    data["images"] = files if files is not None else [upload()]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with run_jobs():
        response = client.post(reverse("studio"), data, **headers)
    return response


def stored_files() -> list[str]:
    """The names of every file in the picture store (the media folder or the bucket)."""
    return stored_names()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_edit_runs_to_a_before_after_pair(owner_client, run_jobs, stream, settings):
    settings.GAITU_STREAM = stream
    response = submit(owner_client, run_jobs)
    assert response.status_code == 200
    edit = Edit.objects.get()
    assert f'id="edit-{edit.pk}"' in response.text

    edit.refresh_from_db()
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    assert (edit.stage, edit.progress, edit.attempts) == ("done", 100, 1)
    assert edit.finished_at and edit.started_at
    source, result = edit.sources.get(), edit.results.get()
    assert source.thumbnail and result.thumbnail
    assert result.source_url.startswith("http://127.0.0.1:")  # provenance only
    assert "/cdn/download/" not in result.source_url  # the download twin is not a second result

    # The demo really edited the picture: black and white, same size.
    edited = Image.open(result.file.open("rb")).convert("RGB")
    assert edited.size == (64, 48)
    r, g, b = edited.getpixel((5, 5))
    assert abs(r - g) < 8 and abs(g - b) < 8

    page = owner_client.get(reverse("edit_detail", args=[edit.pk]))
    assert reverse("media", args=[edit.pk, "result", 0, "full"]) in page.text
    assert reverse("media", args=[edit.pk, "source", 0, "full"]) in page.text
    gallery = owner_client.get(reverse("gallery"))
    assert reverse("media", args=[edit.pk, "result", 0, "thumb"]) in gallery.text
    assert reverse("media", args=[edit.pk, "result", 0, "full"]) not in gallery.text


@pytest.mark.parametrize("family", ["f1", "f2", "f3", "f4", "f5"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "non-stream"])
def test_every_reply_family_gives_its_results(owner_client, run_jobs, settings, family, stream):
    settings.GAITU_STREAM = stream
    submit(owner_client, run_jobs, f"mirror [demo:family={family}] [demo:n=2]")
    edit = Edit.objects.get()
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert edit.results.count() == 2
    assert edit.first_progress_at is not None
    assert "bytes>" in edit.raw_reply or family != "f2"  # data URIs are elided when kept
    assert len(edit.raw_reply) < 4000
    assert edit.result_links == []  # done with: the results are stored


def test_an_idle_gateway_is_a_named_timeout(owner_client, run_jobs, settings):
    settings.GAITU_READ_TIMEOUT = 0.3
    submit(owner_client, run_jobs, "blur [demo:stall] [demo:latency=1.5]")
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code) == ("failed", "timeout")
    assert "0.3 s" in edit.error_detail


def test_a_failed_download_is_retried_without_a_second_generation(
    owner_client, run_jobs, monkeypatch
):
    from gateway import fetch
    from worker import run

    generations = []
    real_request, real_fetch = run.send_with_fallback, fetch.fetch_image
    monkeypatch.setattr(
        run,
        "send_with_fallback",
        lambda *a, **k: generations.append(1) or real_request(*a, **k),
    )

    def flaky_fetch(*args, **kwargs):
        raise fetch.FetchError("download_failed", "HTTP 503")

    monkeypatch.setattr(run, "fetch_image", flaky_fetch)
    submit(owner_client, run_jobs, "sepia")
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code, len(generations)) == ("failed", "download_failed", 1)
    assert len(edit.result_links) == 1

    monkeypatch.setattr(run, "fetch_image", real_fetch)
    with run_jobs():
        owner_client.post(reverse("edit_retry", args=[edit.pk]))
    edit.refresh_from_db()
    assert (edit.status, len(generations)) == ("succeeded", 1)


def test_links_that_fail_twice_are_dropped_so_the_next_retry_generates_anew(owner_client, run_jobs):
    submit(owner_client, run_jobs, "sepia [demo:badlink]")
    edit = Edit.objects.get()
    assert edit.result_links
    with run_jobs():
        owner_client.post(reverse("edit_retry", args=[edit.pk]))
    edit.refresh_from_db()
    assert (edit.status, edit.error_code, edit.result_links) == ("failed", "download_failed", [])


def test_several_pictures_go_in_order(owner_client, run_jobs):
    files = [upload("a.png", image_bytes(fmt="PNG"), "image/png"), upload("b.jpg")]
    submit(owner_client, run_jobs, files=files)
    edit = Edit.objects.get()
    assert [s.filename for s in edit.sources.all()] == ["a.png", "b.jpg"]
    assert edit.status == Edit.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("directive", "code", "words"),
    [
        ("[demo:fail=401]", "key_rejected", "Incorrect API key provided"),
        ("[demo:fail=402]", "quota_exhausted", "额度不足"),
        ("[demo:fail=429]", "rate_limited", "饱和"),
        ("[demo:fail=503]", "model_unavailable", "无可用渠道"),
        ("[demo:fail=502]", "gateway_error", "502"),
        ("[demo:refuse]", "refused", "I'm sorry"),
        ("[demo:moderation]", "content_filtered", "input_moderation"),
        ("[demo:error]", "upstream_error", "crashed"),
        ("[demo:drop]", "connection_failed", ""),
        ("[demo:filter]", "content_filtered", ""),
        ("[demo:badlink]", "download_failed", "HTTP 404"),
        ("[demo:private]", "link_blocked", "10.0.0.1"),
    ],
)
def test_a_failed_edit_says_why_and_keeps_the_original(
    owner_client, run_jobs, directive, code, words
):
    submit(owner_client, run_jobs, f"sepia {directive}")
    edit = Edit.objects.get()
    assert edit.status == Edit.Status.FAILED
    assert edit.error_code == code
    assert words in edit.error_detail
    assert edit.sources.get().file.storage.exists(edit.sources.get().file.name)
    card = owner_client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert edit.error_message in card.text
    chinese = owner_client.get(
        reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh"
    )
    assert edit.error_message not in chinese.text  # shown in the reader's language
    # Retry is offered unless it could only be refused the same way again.
    retry_offered = code not in {"link_blocked", "key_rejected", "quota_exhausted"}
    assert (reverse("edit_retry", args=[edit.pk]) in card.text) is retry_offered
    assert "hx-trigger" not in card.text  # a finished card stops polling


def test_retry_runs_a_failed_edit_again_with_the_same_original(owner_client, run_jobs, settings):
    settings.GAITU_DEMO = False
    settings.GAITU_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.GAITU_API_KEY = "sk-test-not-real"
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code) == ("failed", "connection_failed")
    assert "sk-test-not-real" not in edit.error_detail + edit.error_message

    settings.GAITU_DEMO = True
    with run_jobs():
        response = owner_client.post(reverse("edit_retry", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    edit.refresh_from_db()
    assert (edit.status, edit.attempts, edit.error_code) == ("succeeded", 2, "")


def test_an_active_card_asks_for_news(owner_client, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    card = owner_client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="gaitu:changed"' in card.text and "data-live" in card.text
    assert "<html" not in card.text
    assert card["Vary"].count("HX-Request") == 1


@pytest.mark.parametrize(
    ("files", "instruction", "message"),
    [
        ([upload("x.png", b"<html>not really</html>", "image/png")], "blur", "not a picture"),
        ([upload("x.jpg", image_bytes((300, 300))[:400])], "blur", "damaged or incomplete"),
        ([upload()], "", "Write what should change"),
        ([upload()], "x" * 4001, "at most 4000 characters"),
        ([upload() for _ in range(5)], "blur", "At most 4 pictures"),
    ],
    ids=["not-image", "truncated", "no-instruction", "long-instruction", "too-many"],
)
def test_bad_input_is_explained_and_nothing_is_stored(
    owner_client, run_jobs, files, instruction, message
):
    copies = [upload(f.name, f.read(), f.content_type) for f in files]
    for f in files:
        f.seek(0)
    response = submit(owner_client, run_jobs, instruction, files=files)
    assert response.status_code == 200
    # Said in the form's feedback region and beside the field; the form itself is not sent
    # again, so the pictures chosen and the text stay in the page.
    assert response["HX-Retarget"] == "#upload-feedback"
    assert 'id="upload-form"' not in response.text
    assert message in response.text
    assert not Edit.objects.exists()
    assert not [name for name in stored_files() if name.startswith("originals/")]

    page = submit(owner_client, run_jobs, instruction, files=copies, htmx=False)
    assert page.status_code == 400
    assert message in page.text


def test_without_htmx_submit_redirects_to_the_edit(owner_client, run_jobs):
    response = submit(owner_client, run_jobs, htmx=False)
    edit = Edit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("edit_detail", args=[edit.pk])


def test_media_is_served_to_its_owner_only(owner_client, run_jobs, client, stranger):
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    urls = [
        reverse("media", args=[edit.pk, kind, 0, variant])
        for kind in ("source", "result")
        for variant in ("full", "thumb", "download")
    ]
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("image/")
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
    download = owner_client.get(urls[2])
    assert 'attachment; filename="gaitu-' in download["Content-Disposition"]
    assert Image.open(io.BytesIO(b"".join(owner_client.get(urls[0]).streaming_content)))

    client.force_login(stranger)
    for url in [*urls, reverse("edit_detail", args=[edit.pk])]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("edit_retry", args=[edit.pk])).status_code == 404
    client.logout()
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_the_model_picker_adds_what_the_gateway_serves(owner_client, settings, monkeypatch):
    from django.core.cache import cache

    from editor import gateways

    cache.clear()
    settings.GAITU_DEMO = False
    settings.GAITU_API_KEY = "k"
    monkeypatch.setattr(gateways, "list_models", lambda gateway: ["flux-kontext", "gpt-4o-image"])
    page = owner_client.get(reverse("studio"))
    assert "flux-kontext" not in page.text  # the page itself never waits for the gateway
    options = owner_client.get(reverse("model_options"), {"model": "gpt-4o-image"})
    assert '<option value="flux-kontext">' in options.text
    assert '<option value="gpt-4o-image" selected>' in options.text
    assert "flux-kontext" in owner_client.get(reverse("studio")).text  # cached from now on
    cache.clear()


def test_gps_is_stripped_from_what_is_stored_and_served(owner_client, run_jobs):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 5.0)  # GPSLatitude
    exif[0x010F] = "PhoneMaker"
    photo = io.BytesIO()
    Image.new("RGB", (80, 40), (10, 200, 30)).save(photo, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(photo.getvalue())).getexif().get_ifd(0x8825)

    submit(owner_client, run_jobs, files=[upload("gps.jpg", photo.getvalue())])
    edit = Edit.objects.get()
    served = b"".join(
        owner_client.get(reverse("media", args=[edit.pk, "source", 0, "full"])).streaming_content
    )
    for data in (served, edit.sources.get().file.open("rb").read()):
        kept = Image.open(io.BytesIO(data)).getexif()
        assert not kept.get_ifd(0x8825)
        assert 0x010F not in kept
        assert kept[0x0112] == 6  # still displayed upright


def test_until_the_worker_runs_the_original_is_served_as_it_will_be_stored(owner_client, settings):
    from tests.support.upload_samples import camera_jpeg

    response = submit(owner_client, lambda: nullcontext(), files=[upload("cam.jpg", camera_jpeg())])
    assert response.status_code == 200
    source = Edit.objects.get().sources.get()
    assert not source.metadata_removed  # stored as it came: the request only moved the file
    uploaded = source.file.name
    assert stored_bytes(uploaded) == camera_jpeg()
    url = reverse("media", args=[source.edit_id, "source", 0, "full"])
    served = b"".join(owner_client.get(url).streaming_content)
    assert not Image.open(io.BytesIO(served)).getexif().get_ifd(0x8825)
    assert b"hidden comment" not in served

    source.keep_cleaned(source.write_cleaned())  # what the worker does
    assert source.metadata_removed and uploaded not in stored_files()
    assert source.file.open("rb").read() == served  # what was served is what is kept
    assert b"".join(owner_client.get(url).streaming_content) == served


def test_a_jpeg_damaged_before_its_end_is_accepted_then_fails_saying_so(owner_client, run_jobs):
    from tests.support.upload_samples import camera_jpeg

    whole = camera_jpeg()
    scan = whole.index(b"\xff\xda")
    damaged = whole[:scan] + b"\xff\xc4\x00\x01" + whole[scan:]  # a segment with a bad length
    response = submit(owner_client, run_jobs, files=[upload("bad.jpg", damaged)])
    assert response.status_code == 200  # the request checks only that the picture ends
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code) == ("failed", "unreadable_picture")
    source = edit.sources.get()
    assert source.file.storage.exists(source.file.name)  # the original is kept, for Retry or a look
    served = owner_client.get(reverse("media", args=[edit.pk, "source", 0, "full"]))
    assert served.status_code == 404  # never served with its metadata


def test_an_unchanged_card_costs_a_304(owner_client, owner, django_assert_max_num_queries):
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    assert edit.start()
    url = reverse("edit_detail", args=[edit.pk])
    first = owner_client.get(url, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    etag = first["ETag"]
    with django_assert_max_num_queries(3):  # session, user, the card's state
        again = owner_client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304

    edit.report_progress(Edit.Stage.GENERATING, 40)
    changed = owner_client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "40%" in changed.text
    chinese = owner_client.get(
        url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=changed["ETag"], HTTP_ACCEPT_LANGUAGE="zh"
    )
    assert chinese.status_code == 200  # another language is another card


@pytest.mark.parametrize("edits", [3, 40])
def test_gallery_queries_do_not_grow_with_the_gallery(
    owner_client, owner, edits, django_assert_max_num_queries
):
    Edit.objects.bulk_create(
        Edit(owner=owner, instruction=f"edit {n}", model="gpt-4o-image") for n in range(edits)
    )
    with django_assert_max_num_queries(8):
        page = owner_client.get(reverse("gallery"))
    assert page.status_code == 200
    first = Edit.objects.filter(owner=owner).order_by("-created_at", "-id")[0]
    cursor = f"{first.created_at.isoformat()}_{first.pk}"
    with django_assert_max_num_queries(7):
        more = owner_client.get(reverse("gallery"), {"after": cursor}, HTTP_HX_REQUEST="true")
    assert str(first.pk) not in more.text


def test_a_picture_damaged_inside_fails_saying_so(owner_client, run_jobs, monkeypatch):
    from worker import run

    def broken(*args, **kwargs):
        raise OSError("broken data stream when reading image file")

    monkeypatch.setattr(run, "shape_with_still", broken)
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code) == ("failed", "unreadable_picture")
    assert "broken data stream" in edit.error_detail
    assert edit.sources.get().file.storage.exists(edit.sources.get().file.name)


def test_scrolling_the_gallery_never_repeats_a_tile(owner_client, owner):
    import re

    for n in range(26):
        Edit.objects.create(owner=owner, instruction=f"edit {n}", model="gpt-4o-image")
    first = owner_client.get(reverse("gallery"))
    cursor = re.search(r'after=([^"&]+)"', first.text).group(1)
    Edit.objects.create(owner=owner, instruction="made while scrolling", model="gpt-4o-image")
    more = owner_client.get(f"{reverse('gallery')}?after={cursor}", HTTP_HX_REQUEST="true")
    shown = re.findall(r'id="tile-([0-9a-f-]+)"', first.text + more.text)
    assert len(shown) == len(set(shown)) == 26


def test_a_full_disk_in_the_worker_fails_the_edit_saying_so(owner_client, run_jobs, monkeypatch):
    import errno

    from editor.models import SourceImage

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SourceImage, "write_cleaned", full)
    submit(owner_client, run_jobs)
    edit = Edit.objects.get()
    assert (edit.status, edit.error_code) == ("failed", "storage_full")
    assert "disk is full" in edit.failure_message
    source = edit.sources.get()  # the original is kept as uploaded, for Retry
    assert source.file.storage.exists(source.file.name)
