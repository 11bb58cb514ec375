"""Pictures that go missing behind Gaitu's back, and pictures that go with their rows.

A file deleted or cut short in the store (the media folder or the bucket) is never a server
error: thumbnails fall back to a placeholder, display renditions to the full size, full sizes
and downloads answer 404, and every
page still shows. And however a picture's row is deleted (the page, the API, the admin,
deleting its owner), its files go too, but only once the delete is committed.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from editor import services
from editor.models import Edit, ResultImage, SourceImage
from studio.views.media import MEDIA_CSP
from tests.support.factories import image_bytes, upload
from tests.support.stored import (  # noqa: F401  (own_bucket: autouse)
    own_bucket,
    remove_stored,
    replace_stored,
    stored_bytes,
    stored_names,
)

PLACEHOLDER_TYPE = "image/svg+xml"
MEDIA = [
    (kind, variant)
    for kind in ("source", "result")
    for variant in ("full", "display", "thumb", "download")
]


def finished_edit(client, run_jobs, instruction: str = "make it black and white") -> Edit:
    data = {"instruction": instruction, "model": "gpt-4o-image", "images": [upload()]}
    with run_jobs():
        client.post(reverse("studio"), data, HTTP_HX_REQUEST="true")
    edit = Edit.objects.latest("created_at")
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    return edit


def stored_files() -> list[str]:
    return stored_names()


def pictures_of(edit: Edit) -> list[SourceImage | ResultImage]:
    return [*edit.sources.all(), *edit.results.all()]


def remove_files(edit: Edit) -> None:
    """Delete the edit's files the way a person tidying the store would: the rows stay."""
    for picture in pictures_of(edit):
        for field in (picture.file, picture.thumbnail, picture.display):
            remove_stored(field.name)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_placeholder_or_404(response, variant: str) -> None:
    if variant == "thumb":
        # A tile still shows something: the placeholder, never kept, as the real one may return.
        assert response.status_code == 200
        assert response["Content-Type"] == PLACEHOLDER_TYPE
        assert b"<svg" in body_of(response)
        assert "no-cache" in response["Cache-Control"]
        assert response["Content-Security-Policy"] == MEDIA_CSP
    else:
        assert response.status_code == 404


def test_removed_files_give_placeholders_and_404s_never_a_500(owner_client, owner, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    share, _created = services.share(edit, show_original=True, show_instruction=True)
    remove_files(edit)
    assert stored_files() == []

    for kind, variant in MEDIA:
        mine = owner_client.get(reverse("media", args=[edit.pk, kind, 0, variant]))
        assert_placeholder_or_404(mine, variant)
        shared = owner_client.get(reverse("shared_media", args=[share.token, kind, 0, variant]))
        assert_placeholder_or_404(shared, variant)

    pages = [
        reverse("studio"),
        reverse("gallery"),
        reverse("edit_detail", args=[edit.pk]),
        reverse("edit_delete", args=[edit.pk]),
        reverse("shared", args=[share.token]),
    ]
    for page in pages:
        assert owner_client.get(page).status_code == 200, page
    card = owner_client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    assert reverse("media", args=[edit.pk, "result", 0, "display"]) in card.text


def test_the_api_still_describes_an_edit_whose_files_are_gone(client, owner_token, owner):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    edit = Edit.objects.create(owner=owner, instruction="blur", model="gpt-4o-image")
    source = SourceImage.objects.create(
        edit=edit, file="originals/gone.jpg", width=64, height=48, content_type="image/jpeg"
    )
    detail = client.get(reverse("api_edit", args=[edit.pk]), **headers)
    assert detail.status_code == 200
    assert detail.json()["sources"][0]["url"].endswith(
        reverse("media", args=[edit.pk, "source", source.position, "full"])
    )
    assert client.get(reverse("api_edits"), **headers).status_code == 200
    assert client.get(detail.json()["sources"][0]["url"], **headers).status_code == 404


def test_the_api_answers_200_for_a_finished_edit_without_its_files(
    client, owner_client, owner_token, run_jobs
):
    edit = finished_edit(owner_client, run_jobs)
    remove_files(edit)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    detail = client.get(reverse("api_edit", args=[edit.pk]), **headers)
    assert detail.status_code == 200
    assert detail.json()["status"] == "succeeded"
    for picture in [*detail.json()["sources"], *detail.json()["results"]]:
        assert client.get(picture["url"], **headers).status_code == 404


def test_an_original_cut_short_in_the_store_is_a_404_not_a_500(owner_client):
    # Submitted, its job not run yet: the original is still the upload, cleaned as it is served.
    data = {"instruction": "blur", "model": "gpt-4o-image", "images": [upload()]}
    owner_client.post(reverse("studio"), data)
    source = SourceImage.objects.get()
    assert not source.metadata_removed and not source.thumbnail
    replace_stored(source.file.name, image_bytes()[:200])

    for variant in ("full", "display", "download"):  # no display rendition yet: the full one
        url = reverse("media", args=[source.edit_id, "source", 0, variant])
        assert owner_client.get(url).status_code == 404
    thumb = owner_client.get(reverse("media", args=[source.edit_id, "source", 0, "thumb"]))
    assert_placeholder_or_404(thumb, "thumb")
    assert owner_client.get(reverse("edit_detail", args=[source.edit_id])).status_code == 200


def test_a_cleaned_original_cut_short_is_served_as_it_is(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    source = edit.sources.get()
    assert source.metadata_removed
    replace_stored(source.file.name, stored_bytes(source.file.name)[:100])
    for variant in ("full", "download", "display", "thumb"):
        response = owner_client.get(reverse("media", args=[edit.pk, "source", 0, variant]))
        assert response.status_code == 200  # what is there; the request never decodes it


def test_a_thumbnail_not_made_yet_shows_the_placeholder(owner_client, owner):
    edit = Edit.objects.create(owner=owner, instruction="blur")
    SourceImage.objects.create(edit=edit, file="originals/x.jpg", content_type="image/jpeg")
    response = owner_client.get(reverse("media", args=[edit.pk, "source", 0, "thumb"]))
    assert_placeholder_or_404(response, "thumb")
    assert owner_client.get(reverse("media", args=[edit.pk, "source", 1, "thumb"])).status_code == (
        404  # no such picture at all: not a placeholder
    )


# --- Edit again from a result whose file is gone --------------------------------------------


def test_editing_again_a_result_whose_file_is_gone_says_why(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    result = edit.results.get()
    remove_stored(result.file.name)
    parent = f"{edit.pk}:0"

    opened = owner_client.get(reverse("studio"), {"again": parent})
    assert opened.status_code == 200
    assert "The picture of that result is missing" in opened.text
    assert "data-parent-problem" in opened.text

    data = {"instruction": "sepia", "model": "gpt-4o-image", "parent": parent}
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        with run_jobs():
            answer = owner_client.post(reverse("studio"), data, **headers)
        assert answer.status_code in (200, 400)
        assert "The picture of that result is missing" in answer.text
        # The parent is what is wrong, not a missing picture.
        assert "Choose at least one picture" not in answer.text
    assert Edit.objects.count() == 1


def test_the_api_refuses_to_edit_again_a_result_whose_file_is_gone(
    client, owner_client, owner_token, run_jobs
):
    edit = finished_edit(owner_client, run_jobs)
    remove_stored(edit.results.get().file.name)
    with run_jobs():
        answer = client.post(
            reverse("api_edits"),
            {"instruction": "sepia", "parent": f"{edit.pk}:0"},
            HTTP_AUTHORIZATION=f"Bearer {owner_token}",
        )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == ("parent", "missing_parent")
    assert "missing" in error["message"]
    assert Edit.objects.count() == 1


def test_editing_again_a_result_that_is_there_still_works(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    opened = owner_client.get(reverse("studio"), {"again": f"{edit.pk}:0"})
    assert "data-parent-problem" not in opened.text
    assert "data-parent" in opened.text
    data = {"instruction": "sepia", "model": "gpt-4o-image", "parent": f"{edit.pk}:0"}
    with run_jobs():
        owner_client.post(reverse("studio"), data)
    again = Edit.objects.latest("created_at")
    assert again.parent == edit.results.get()
    assert again.status == Edit.Status.SUCCEEDED, again.error_detail


# --- Deleting, by every path, removes the files ----------------------------------------------


def test_deleting_a_person_deletes_the_files_of_their_edits(
    owner_client, owner, run_jobs, django_capture_on_commit_callbacks
):
    finished_edit(owner_client, run_jobs)
    finished_edit(owner_client, run_jobs, "rotate it")
    # 2 edits x (original, result) x (file, thumbnail, display rendition)
    assert len(stored_files()) == 12
    with django_capture_on_commit_callbacks(execute=True):
        owner.delete()
    assert stored_files() == []
    assert not SourceImage.objects.exists() and not ResultImage.objects.exists()


def test_files_go_only_once_the_delete_is_committed(
    owner_client, owner, run_jobs, django_capture_on_commit_callbacks
):
    finished_edit(owner_client, run_jobs)
    before = stored_files()

    def delete_then_fail() -> None:
        with transaction.atomic():
            get_user_model().objects.get(pk=owner.pk).delete()
            assert stored_files() == before  # nothing yet, even inside the transaction
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        delete_then_fail()
    assert stored_files() == before
    assert Edit.objects.count() == 1


def test_deleting_a_person_in_the_admin_deletes_their_files(
    client, owner_client, owner, run_jobs, django_capture_on_commit_callbacks
):
    finished_edit(owner_client, run_jobs)
    admin = get_user_model().objects.create_superuser("boss", password="a long pass phrase")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("admin:auth_user_delete", args=[owner.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    assert stored_files() == []


def test_deleting_edits_in_the_admin_deletes_their_files(
    client, owner_client, run_jobs, django_capture_on_commit_callbacks
):
    edit = finished_edit(owner_client, run_jobs)
    other = finished_edit(owner_client, run_jobs, "rotate it")
    admin = get_user_model().objects.create_superuser("boss", password="a long pass phrase")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:editor_edit_delete", args=[edit.pk]), {"post": "yes"})
    assert len(stored_files()) == 6
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:editor_edit_changelist"),
            {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
        )
    assert not Edit.objects.exists()
    assert stored_files() == []


def test_deleting_an_edit_from_its_page_deletes_its_files(
    owner_client, run_jobs, django_capture_on_commit_callbacks
):
    edit = finished_edit(owner_client, run_jobs)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("edit_delete", args=[edit.pk]))
    assert stored_files() == []


def test_deleting_an_edit_whose_files_are_already_gone_is_fine(
    owner_client, run_jobs, django_capture_on_commit_callbacks
):
    edit = finished_edit(owner_client, run_jobs)
    remove_files(edit)
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post(reverse("edit_delete", args=[edit.pk]))
    assert answer.status_code == 302
    assert not Edit.objects.exists()
