"""The display rendition: a JPEG (a WebP for a picture with transparency) of at most 1600 px
that the worker makes of every original and
result, served as the variant "display" (to the owner and through a share), counted in the
stored size, deleted with its edit, and the full picture where it was not made."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from editor import services
from editor.models import Edit, ResultImage, SourceImage
from studio.views.media import OWNER_CACHE, SHARE_CACHE
from tests.support.factories import image_bytes, upload
from tests.support.stored import own_bucket, remove_stored, stored_names  # noqa: F401 (autouse)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def finished_edit(client, run_jobs, size=(2400, 1500), instruction="make it black and white"):
    picture = upload("wide.jpg", image_bytes(size))
    data = {"instruction": instruction, "model": "gpt-4o-image", "images": [picture]}
    with run_jobs():
        client.post(reverse("studio"), data, HTTP_HX_REQUEST="true")
    edit = Edit.objects.latest("created_at")
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    return edit


def stored_size(picture: SourceImage | ResultImage) -> int:
    fields = (picture.file, picture.thumbnail, picture.display)
    return sum(field.size for field in fields if field)


@pytest.mark.parametrize("kind", ["source", "result"])
def test_the_worker_makes_a_display_rendition_of_each_picture(owner_client, run_jobs, kind):
    edit = finished_edit(owner_client, run_jobs)
    picture = edit.sources.get() if kind == "source" else edit.results.get()
    assert picture.display.name.startswith("displays/")
    with picture.display.open("rb") as stored:
        display = Image.open(io.BytesIO(stored.read()))
    assert display.format == "JPEG"
    assert picture.display.name.endswith(".jpg")
    assert display.size == (1600, 1000)  # the long side at 1600, the shape kept
    # Counted in what the person keeps, as the thumbnail is.
    assert picture.size == stored_size(picture)

    response = owner_client.get(reverse("media", args=[edit.pk, kind, 0, "display"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == OWNER_CACHE
    assert Image.open(io.BytesIO(body_of(response))).size == (1600, 1000)


def test_a_small_picture_is_not_enlarged(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs, size=(300, 200))
    for picture in (edit.sources.get(), edit.results.get()):
        with picture.display.open("rb") as stored:
            assert Image.open(io.BytesIO(stored.read())).size == (300, 200)


def test_a_share_serves_the_display_rendition_too(owner_client, client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    share, _created = services.share(edit, show_original=True, show_instruction=True)
    client.logout()
    for kind in ("source", "result"):
        response = client.get(reverse("shared_media", args=[share.token, kind, 0, "display"]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == SHARE_CACHE


def test_a_rendition_of_a_transparent_picture_is_a_webp(owner_client, run_jobs):
    picture = upload(
        "cut-out.png",
        image_bytes((2000, 1000), "PNG", mode="RGBA", color=(0, 0, 0, 0)),
        "image/png",
    )
    data = {"instruction": "keep it", "model": "gpt-4o-image", "images": [picture]}
    with run_jobs():
        owner_client.post(reverse("studio"), data, HTTP_HX_REQUEST="true")
    edit = Edit.objects.latest("created_at")
    source = edit.sources.get()
    assert source.display.name.endswith(".webp")
    response = owner_client.get(reverse("media", args=[edit.pk, "source", 0, "display"]))
    assert response["Content-Type"] == "image/webp"
    display = Image.open(io.BytesIO(body_of(response)))
    assert (display.format, display.mode, display.size) == ("WEBP", "RGBA", (1600, 800))


def test_a_rendition_made_before_they_were_jpegs_is_served_as_a_webp(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    result = edit.results.get()
    with result.display.open("rb") as stored:
        old = io.BytesIO()
        Image.open(stored).save(old, "WEBP")
    name = result.display.storage.save("displays/old.webp", io.BytesIO(old.getvalue()))
    ResultImage.objects.filter(pk=result.pk).update(display=name)
    response = owner_client.get(reverse("media", args=[edit.pk, "result", 0, "display"]))
    assert response["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body_of(response))).format == "WEBP"


def test_without_a_rendition_the_full_picture_is_served_and_not_kept(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    result = edit.results.get()
    full = body_of(owner_client.get(reverse("media", args=[edit.pk, "result", 0, "full"])))

    ResultImage.objects.filter(pk=result.pk).update(display="")  # an edit from before them
    response = owner_client.get(reverse("media", args=[edit.pk, "result", 0, "display"]))
    assert response.status_code == 200
    assert response["Content-Type"] == result.content_type
    assert body_of(response) == full
    assert response["Cache-Control"] == "private, no-cache"  # the rendition may come yet

    ResultImage.objects.filter(pk=result.pk).update(display=result.display.name)
    remove_stored(result.display.name)  # gone behind Gaitu's back: the full picture as well
    response = owner_client.get(reverse("media", args=[edit.pk, "result", 0, "display"]))
    assert response.status_code == 200
    assert body_of(response) == full


def test_deleting_an_edit_deletes_its_renditions(
    owner_client, run_jobs, django_capture_on_commit_callbacks
):
    edit = finished_edit(owner_client, run_jobs)
    assert len([name for name in stored_names() if name.startswith("displays/")]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("edit_delete", args=[edit.pk]))
    assert stored_names() == []


def test_the_card_offers_every_size_with_its_real_width(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs)
    card = owner_client.get(reverse("studio")).text

    def url(kind: str, variant: str) -> str:
        return reverse("media", args=[edit.pk, kind, 0, variant])

    # The demo gateway gives its result at 2048 px, the original is 2400 px wide.
    for kind, width in (("source", 2400), ("result", edit.results.get().width)):
        assert width > 1600
        srcset = (
            f"{url(kind, 'thumb')} 480w, {url(kind, 'display')} 1600w, {url(kind, 'full')} {width}w"
        )
        assert f'src="{url(kind, "display")}"' in card
        assert f'srcset="{srcset}"' in card
    assert 'sizes="(max-width: 760px) 100vw, 820px"' in card
    page = owner_client.get(reverse("edit_detail", args=[edit.pk])).text
    assert 'sizes="(max-width: 760px) 100vw, 1140px"' in page  # its own page: a wider canvas


def test_a_picture_no_larger_than_a_rendition_offers_no_needless_size(owner_client, run_jobs):
    edit = finished_edit(owner_client, run_jobs, size=(300, 200))
    card = owner_client.get(reverse("studio")).text
    display = reverse("media", args=[edit.pk, "result", 0, "display"])
    # Thumbnail, rendition and picture are all 300 px wide: the rendition alone.
    assert f'srcset="{display} 300w"' in card
