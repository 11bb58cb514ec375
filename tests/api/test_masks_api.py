"""A mask through the JSON API: sent with the picture, kept, shown and served with the token;
a mask that does not fit is refused, naming the field. And which provider and API served it."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.test_modes import bearer, create, detail
from tests.support.factories import upload
from tests.web.test_export_masks import mask_png


def a_mask(size=(64, 48)) -> SimpleUploadedFile:
    return SimpleUploadedFile("mask.png", mask_png(size), "image/png")


def test_a_masked_edit_keeps_its_mask_and_says_how_it_went(client, owner_token, run_jobs):
    made = detail(
        client,
        owner_token,
        create(client, owner_token, run_jobs, image=upload(), mask=a_mask(), model="gpt-image-1"),
    )
    assert made["status"] == "succeeded", made["error"]
    assert (made["provider"], made["transport"], made["switches"]) == ("demo", "images", [])
    mask = client.get(made["sources"][0]["mask"], **bearer(owner_token))
    assert mask.status_code == 200
    assert b"".join(mask.streaming_content) == mask_png()


def test_without_a_mask_there_is_none(client, owner_token, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs, image=upload()))
    assert made["sources"][0]["mask"] is None


def test_a_mask_of_another_size_is_refused_by_name(client, owner_token, run_jobs):
    response = create(client, owner_token, run_jobs, image=upload(), mask=a_mask((10, 10)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_mask", "mask")
    assert "10 × 10" in error["message"]


def test_a_mask_without_its_picture_is_refused(client, owner_token, run_jobs):
    response = create(client, owner_token, run_jobs, mask=a_mask())
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "mask"
