"""A batch's page, card, buttons and ZIP: for its owner only, Retry of the failed ones only,
and a ZIP of each edit's chosen result under its place and its original's name."""

import io
import zipfile
from contextlib import nullcontext

import pytest
from django.urls import reverse

from editor import archives, services
from editor.models import Edit, EditGroup
from tests.support.factories import image_bytes, upload

S = Edit.Status


def png(name: str, color=(200, 40, 40)):
    return upload(name, image_bytes((64, 48), "PNG", color=color), "image/png")


def start_batch(client, run_jobs=None, instruction="warmer light", files=None) -> EditGroup:
    """A batch through the studio's form, as a person starts one."""
    files = files if files is not None else [png("beach.png"), png("dog.png", (0, 90, 200))]
    data = {"instruction": instruction, "model": "gpt-4o-image", "mode": "batch", "images": files}
    with run_jobs() if run_jobs else nullcontext():
        response = client.post(reverse("studio"), data)
    assert response.status_code == 302, response.content[:500]
    return EditGroup.objects.get(kind=EditGroup.Kind.BATCH)


def edits_of(group: EditGroup) -> list[Edit]:
    return list(group.edits.order_by("created_at"))


def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


BATCH_VIEWS = [
    ("batch_detail", "get"),
    ("batch_card", "get"),
    ("batch_download", "get"),
    ("batch_delete", "get"),
    ("batch_retry_failed", "post"),
    ("batch_cancel_rest", "post"),
    ("batch_delete", "post"),
]


@pytest.mark.parametrize(("name", "method"), BATCH_VIEWS)
def test_someone_elses_batch_is_not_found(client, owner_client, stranger, name, method):
    group = start_batch(owner_client)
    client.force_login(stranger)
    response = getattr(client, method)(reverse(name, args=[group.pk]))
    assert response.status_code == 404
    assert EditGroup.objects.filter(pk=group.pk).exists()
    assert not Edit.objects.filter(group=group).exclude(status=S.QUEUED).exists()


@pytest.mark.parametrize(("name", "method"), BATCH_VIEWS)
def test_signed_out_people_are_sent_to_log_in(client, owner_client, name, method):
    group = start_batch(owner_client)
    client.logout()
    response = getattr(client, method)(reverse(name, args=[group.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_comparison_is_no_batch(owner_client, owner):
    group = EditGroup.objects.create(owner=owner, kind=EditGroup.Kind.COMPARISON, instruction="x")
    Edit.objects.create(owner=owner, instruction="x", model="m", group=group)
    assert owner_client.get(reverse("batch_detail", args=[group.pk])).status_code == 404


def test_the_page_shows_each_edit_and_the_counts(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    first, second = edits_of(group)
    second.results.all().delete()
    Edit.objects.filter(pk=second.pk).update(status=S.QUEUED)  # as if it still waited
    page = owner_client.get(reverse("batch_detail", args=[group.pk]))
    assert page.status_code == 200
    text = page.text
    assert "<h1" in text and "warmer light" in text
    assert "1 of 2 done" in text and "1 waiting" in text
    assert "beach.png" in text and "dog.png" in text
    assert text.index(f"batch-edit-{first.pk}") < text.index(f"batch-edit-{second.pk}")
    assert reverse("batch_download", args=[group.pk]) in text
    assert reverse("batch_cancel_rest", args=[group.pk]) in text  # one still waits
    assert reverse("batch_retry_failed", args=[group.pk]) not in text  # none failed
    assert reverse("edit_cancel", args=[second.pk]) in text
    assert "data-batch-live" in text and str(second.pk) in text


def test_the_studio_lists_a_batch_as_one_card(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    studio = owner_client.get(reverse("studio")).text
    assert studio.count(f'id="group-{group.pk}"') == 1
    for edit in edits_of(group):
        assert f'id="edit-{edit.pk}"' not in studio  # its edits are not listed on their own
        assert reverse("media", args=[edit.pk, "result", 0, "thumb"]) in studio
    assert "2 of 2 done" in studio
    assert reverse("batch_detail", args=[group.pk]) in studio
    assert reverse("batch_download", args=[group.pk]) in studio
    assert "data-batch-live" not in studio  # nothing runs: nothing to follow


def test_the_card_while_it_runs_and_an_unchanged_card_costs_a_304(owner_client):
    group = start_batch(owner_client)
    first, second = edits_of(group)
    url = reverse("batch_card", args=[group.pk])
    card = owner_client.get(url, HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    assert "0 of 2 done" in card.text and "2 waiting" in card.text
    assert f'data-running="{first.pk},{second.pk}"' in card.text
    again = owner_client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=card["ETag"])
    assert again.status_code == 304

    assert first.start()
    first.fail("timeout")
    changed = owner_client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=card["ETag"])
    assert changed.status_code == 200
    assert "1 failed" in changed.text and "1 waiting" in changed.text
    assert reverse("batch_retry_failed", args=[group.pk]) in changed.text


def test_htmx_on_the_batch_page_gets_its_section(owner_client):
    group = start_batch(owner_client)
    page_url = reverse("batch_detail", args=[group.pk])
    section = owner_client.get(
        page_url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page_url}"
    )
    assert section.status_code == 200
    assert section.text.lstrip().startswith(f'<section class="batch-page" id="batch-{group.pk}"')
    assert "<html" not in section.text


def test_retry_requeues_the_failed_and_canceled_ones_only(
    owner_client, django_capture_on_commit_callbacks
):
    files = [png(f"{n}.png") for n in range(4)]
    group = start_batch(owner_client, files=files)
    done, failed, canceled, running = edits_of(group)
    assert done.start() and done.succeed()
    assert failed.start() and failed.fail("timeout")
    assert services.cancel(canceled)
    assert running.start()
    with django_capture_on_commit_callbacks() as enqueued:
        response = owner_client.post(reverse("batch_retry_failed", args=[group.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("batch_detail", args=[group.pk])
    statuses = [edit.status for edit in edits_of(group)]
    assert statuses == [S.SUCCEEDED, S.QUEUED, S.QUEUED, S.RUNNING]
    assert len(enqueued) == 2  # a job for each edit queued again, none for the others


def test_retry_with_nothing_failed_changes_nothing(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    response = owner_client.post(reverse("batch_retry_failed", args=[group.pk]), follow=True)
    assert "None of this batch" in response.text
    assert {edit.status for edit in edits_of(group)} == {S.SUCCEEDED}


def test_retry_from_the_card_answers_with_the_card(owner_client):
    group = start_batch(owner_client)
    for edit in edits_of(group):
        assert edit.start() and edit.fail("timeout")
    response = owner_client.post(
        reverse("batch_retry_failed", args=[group.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<article class="card batch-card"')
    assert "2 waiting" in response.text


def test_cancel_the_rest_leaves_the_finished_ones(owner_client):
    files = [png(f"{n}.png") for n in range(3)]
    group = start_batch(owner_client, files=files)
    done, running, _queued = edits_of(group)
    assert done.start() and done.succeed()
    assert running.start()
    response = owner_client.post(reverse("batch_cancel_rest", args=[group.pk]))
    assert response.status_code == 302
    assert [edit.status for edit in edits_of(group)] == [S.SUCCEEDED, S.CANCELED, S.CANCELED]


def test_the_zip_holds_each_chosen_result_by_place_and_name(owner_client, run_jobs):
    files = [png("beach.png"), png("my dog.png", (0, 90, 200)), png("sky.png", (10, 200, 10))]
    group = start_batch(owner_client, run_jobs, instruction="[demo:n=2] warmer", files=files)
    beach, dog, sky = edits_of(group)
    assert len(dog.results.all()) == 2
    assert services.choose_result(dog, 1)  # the second result stands for it
    Edit.objects.filter(pk=sky.pk).update(status=S.FAILED)
    sky.results.all().delete()  # as if it had failed: it has nothing to give

    archive = read_zip(owner_client.get(reverse("batch_download", args=[group.pk])))
    expected = {}
    for place, edit in ((1, beach), (2, dog)):
        result = Edit.objects.get(pk=edit.pk).chosen_result
        stem = "beach" if place == 1 else "my dog"
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}[
            result.content_type
        ]
        with result.file.open("rb") as stored:
            expected[f"0{place}-{stem}-edited{extension}"] = stored.read()
    assert archive.namelist() == list(expected)
    assert archive.testzip() is None
    for name, data in expected.items():
        assert archive.read(name) == data
    assert (
        archive.read(archive.namelist()[1])
        != Edit.objects.get(pk=dog.pk).results.get(position=0).file.open("rb").read()
    )


def test_the_zip_is_sent_as_it_is_written(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    response = owner_client.get(reverse("batch_download", args=[group.pk]))
    assert response.streaming
    assert "Content-Length" not in response
    assert response["Content-Disposition"] == (
        f'attachment; filename="gaitu-batch-{str(group.pk)[:8]}.zip"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert len(read_zip(response).namelist()) == 2


def test_a_batch_without_results_says_so_rather_than_an_empty_zip(owner_client):
    group = start_batch(owner_client)
    response = owner_client.get(reverse("batch_download", args=[group.pk]), follow=True)
    assert response.redirect_chain == [(reverse("batch_detail", args=[group.pk]), 302)]
    assert "nothing to download" in response.text
    assert reverse("batch_download", args=[group.pk]) not in response.text


def test_a_result_gone_from_the_store_is_left_out_of_the_zip(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    first, _second = edits_of(group)
    result = first.results.get()
    result.file.storage.delete(result.file.name)
    archive = read_zip(owner_client.get(reverse("batch_download", args=[group.pk])))
    assert [name.split("-")[0] for name in archive.namelist()] == ["02"]


def test_names_in_the_zip_are_safe_anywhere():
    assert archives.original_stem("../../etc/pass:wd.png") == "pass-wd"
    assert archives.original_stem("C:\\Users\\me\\海滩.jpg") == "海滩"
    assert archives.original_stem("") == "picture"
    assert archives.original_stem("....jpg") == "picture"


def test_delete_asks_first_then_deletes_the_batch_and_its_pictures(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    stored = [edit.results.get().file.name for edit in edits_of(group)]
    url = reverse("batch_delete", args=[group.pk])
    ask = owner_client.get(url)
    assert ask.status_code == 200 and "Delete this batch?" in ask.text
    assert EditGroup.objects.filter(pk=group.pk).exists()
    with run_jobs():
        response = owner_client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("studio")
    assert not EditGroup.objects.filter(pk=group.pk).exists()
    assert not Edit.objects.exists()
    storage = Edit._meta.get_field("results").related_model._meta.get_field("file").storage
    assert not any(storage.exists(name) for name in stored)


def test_the_page_in_chinese(owner_client, run_jobs):
    group = start_batch(owner_client, run_jobs)
    page = owner_client.get(reverse("batch_detail", args=[group.pk]), HTTP_ACCEPT_LANGUAGE="zh")
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.text


def test_the_zip_is_written_picture_by_picture():
    """What is sent of the first picture leaves before the second is even opened."""
    from datetime import UTC, datetime

    from django.core.files.base import ContentFile

    opened: list[str] = []

    class Store:  # a store that says when a picture is opened
        def open(self, name, mode):
            opened.append(name)
            return ContentFile(name.encode() * 100_000, name=name)

    made = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    members = [archives.Member(f"0{n}-p-edited.png", f"p{n}", Store(), made) for n in (1, 2)]
    written = archives.stream_zip(members)
    first = next(written)
    assert opened == ["p1"] and len(first) < 2 * 2**18
    rest = b"".join(written)
    assert opened == ["p1", "p2"]
    archive = zipfile.ZipFile(io.BytesIO(first + rest))
    assert archive.read("02-p-edited.png") == b"p2" * 100_000


def test_a_batch_whose_edits_were_each_deleted_still_shows(owner_client, owner):
    group = start_batch(owner_client)
    for edit in edits_of(group):
        services.delete(edit)
    page = owner_client.get(reverse("batch_detail", args=[group.pk]))
    assert page.status_code == 200
    assert "0 of 0 done" in page.text
    assert owner_client.get(reverse("studio")).status_code == 200
