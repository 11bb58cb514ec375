"""The studio's form in its modes: a picture made from the words alone, a comparison of
models, a batch, the options, and a link to a picture, through the studio view.

No job runs here (nothing commits): what is checked is what the form stores and what the page
says. The edits themselves run in tests/e2e/test_make_modes_browser.py.
"""

import html
import json
import re

import pytest
from django.urls import reverse

from editor.failures import LINK_PROBLEMS
from editor.models import Edit, EditGroup
from tests.support.factories import image_bytes, upload
from tests.support.fetch_servers import Server, ok, serve

MODELS = ["gpt-image-1", "gpt-4o-image", "gemini-2.5-flash-image"]


@pytest.fixture(autouse=True)
def offered(settings):
    settings.GAITU_MODELS = MODELS
    settings.GAITU_RATE_LIMIT = 0
    settings.GAITU_DAILY_LIMIT = 0


def post(client, data: dict, *, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("studio"), data, **headers)


def errors_box(response, name: str) -> str:
    """The text of a field's error box in the answer (htmx sends them out of band)."""
    found = re.search(rf'<div class="errors" role="alert" id="{name}-errors"[^>]*>(.*?)</div>',
                      response.text, re.S)  # fmt: skip
    assert found, f"no #{name}-errors in the answer"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def nothing_stored() -> bool:
    return not Edit.objects.exists() and not EditGroup.objects.exists()


# ---- What the page offers ----------------------------------------------------------------------


def test_the_studio_opens_neutral_and_says_what_each_mode_will_do(owner_client, settings):
    settings.GAITU_BATCH_MAX = 7
    page = owner_client.get(reverse("studio")).text
    assert "Edit or create a picture" in page  # without scripts: true whichever it becomes
    assert 'data-create="Create a picture"' in page and 'data-edit="Edit a picture"' in page
    assert "Add pictures to edit, or leave empty to create from text." in page
    assert 'data-max-inputs="4"' in page and 'data-max-batch="7"' in page
    for value in ("single", "compare", "batch"):
        assert f'type="radio" name="mode" value="{value}"' in page
    assert re.search(r'value="single" id="id_mode_single" checked', page)
    # Each model's offers, for the page to show only those (make-options.js).
    offers = json.loads(html.unescape(re.search(r'data-model-offers="([^"]*)"', page).group(1)))
    assert offers == {
        "gpt-image-1": {"size": True, "n": True, "quality": True},
        "gpt-4o-image": {"size": True, "n": True, "quality": False},
        "gemini-2.5-flash-image": {"size": True, "n": True, "quality": False},
    }
    assert page.count('name="models"') == len(MODELS)
    assert 'name="image_url"' in page and "Or paste a link to a picture" in page


def test_the_ready_made_instructions_are_no_longer_the_studios_own(owner_client):
    response = owner_client.get(reverse("studio"))
    assert "presets" not in response.context
    assert not hasattr(__import__("studio.views.studio").views.studio, "PRESETS")


def test_quality_shows_from_the_start_only_for_a_model_that_takes_it(owner_client, settings):
    settings.GAITU_MODELS = ["gpt-4o-image", "gpt-image-1"]
    page = owner_client.get(reverse("studio")).text
    assert re.search(r'<div class="field" data-option="quality" hidden>', page)
    settings.GAITU_MODELS = ["gpt-image-1", "gpt-4o-image"]
    page = owner_client.get(reverse("studio")).text
    assert re.search(r'<div class="field" data-option="quality">', page)


# ---- Creating, comparing, batches ------------------------------------------------------------


def test_no_pictures_makes_a_picture_from_the_words_with_the_options_kept(owner_client):
    response = post(
        owner_client,
        {
            "instruction": "a lighthouse at dusk",
            "model": "gpt-image-1",
            "mode": "single",
            "size": "16:9",
            "n": "2",
            "quality": "high",
        },
    )
    assert response.status_code == 200
    edit = Edit.objects.get()
    assert f'id="edit-{edit.pk}"' in response.text
    assert edit.is_generation and not edit.sources.exists() and edit.group is None
    assert (edit.model, edit.instruction) == ("gpt-image-1", "a lighthouse at dusk")
    assert edit.options == {"size": "16:9", "n": 2, "quality": "high"}


def test_a_custom_size_is_kept_in_pixels(owner_client):
    post(
        owner_client,
        {"instruction": "a wide banner", "size": "custom", "width": "1600", "height": "900"},
    )
    assert Edit.objects.get().options == {"size": "1600x900"}


def test_comparing_two_models_makes_one_group_with_an_edit_each(owner_client):
    response = post(
        owner_client,
        {
            "instruction": "make it autumn",
            "mode": "compare",
            "models": ["gpt-image-1", "gpt-4o-image"],
            "images": [upload()],
        },
    )
    assert response.status_code == 200
    group = EditGroup.objects.get()
    assert group.kind == EditGroup.Kind.COMPARISON
    assert f'id="group-{group.pk}"' in response.text
    edits = list(group.edits.order_by("created_at"))
    assert sorted(edit.model for edit in edits) == ["gpt-4o-image", "gpt-image-1"]
    assert all(edit.sources.count() == 1 for edit in edits)
    assert Edit.objects.count() == 2


def test_a_batch_makes_an_edit_for_each_picture(owner_client):
    pictures = [upload(f"p{n}.jpg", image_bytes(color=(40 * n, 90, 20))) for n in range(3)]
    response = post(
        owner_client,
        {"instruction": "sharpen", "mode": "batch", "model": "gpt-4o-image", "images": pictures},
    )
    assert response.status_code == 200
    group = EditGroup.objects.get()
    assert group.kind == EditGroup.Kind.BATCH
    assert f'id="group-{group.pk}"' in response.text
    edits = list(group.edits.order_by("created_at"))
    assert len(edits) == 3
    assert [edit.sources.get().filename for edit in edits] == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert {edit.model for edit in edits} == {"gpt-4o-image"}


def test_a_batch_over_the_limit_is_refused_and_nothing_is_stored(owner_client, settings):
    settings.GAITU_BATCH_MAX = 2
    pictures = [upload(f"p{n}.jpg") for n in range(3)]
    response = post(owner_client, {"instruction": "sharpen", "mode": "batch", "images": pictures})
    assert response["HX-Retarget"] == "#upload-feedback"
    assert "At most 2 pictures can be edited at once." in errors_box(response, "images")
    assert nothing_stored()


def test_a_comparison_of_one_model_is_refused(owner_client):
    response = post(
        owner_client,
        {"instruction": "make it autumn", "mode": "compare", "models": ["gpt-image-1"]},
    )
    assert "Choose from 2 to 4 models to compare." in errors_box(response, "models")
    assert nothing_stored()


def test_a_custom_size_without_its_height_is_refused(owner_client):
    response = post(
        owner_client, {"instruction": "a banner", "size": "custom", "width": "1600", "height": ""}
    )
    assert "Give the custom size's width and height, in pixels." in errors_box(response, "width")
    assert nothing_stored()


def test_a_refused_submission_keeps_the_mode_and_the_options(owner_client, settings):
    settings.GAITU_RATE_LIMIT = 1
    post(owner_client, {"instruction": "the first of the minute"})
    assert Edit.objects.count() == 1
    response = post(
        owner_client,
        {
            "instruction": "too soon",
            "mode": "compare",
            "models": ["gpt-image-1", "gemini-2.5-flash-image"],
            "image_url": "https://example.com/cat.png",
            "size": "custom",
            "width": "1200",
            "height": "800",
            "n": "3",
            "quality": "medium",
        },
        htmx=False,
    )
    assert response.status_code == 429
    page = response.text
    assert "That is a lot of edits in a minute" in page
    assert "Compare models" in re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert re.search(r'value="compare" id="id_mode_compare" checked', page)
    assert 'name="models" value="gpt-image-1" checked' in page
    assert 'name="models" value="gemini-2.5-flash-image" checked' in page
    assert 'name="models" value="gpt-4o-image">' in page  # not chosen
    assert 'value="https://example.com/cat.png"' in page
    assert re.search(r'<option value="custom" selected>', page)
    assert 'name="width" id="id_width"' in page and 'value="1200"' in page
    assert 'value="800"' in page
    assert re.search(r'<option value="3" selected>', page)
    assert re.search(r'<option value="medium" selected>', page)
    assert "too soon" in page
    assert not re.search(r"data-custom-size hidden", page)  # the custom size is shown
    assert Edit.objects.count() == 1


# ---- A link to a picture -----------------------------------------------------------------------


def test_a_link_to_a_picture_becomes_the_original(owner_client, settings):
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    with serve(Server(("127.0.0.1", 0))) as pictures:
        pictures.routes["/pictures/harbour.png"] = ok(image_bytes((80, 60), "PNG"))
        response = post(
            owner_client,
            {"instruction": "add fog", "image_url": pictures.url("/pictures/harbour.png")},
        )
    assert response.status_code == 200
    edit = Edit.objects.get()
    source = edit.sources.get()
    assert (source.filename, source.width, source.height) == ("harbour.png", 80, 60)
    assert not edit.is_generation
    assert pictures.hits["/pictures/harbour.png"] == 1


def test_a_link_to_the_server_itself_is_refused_next_to_the_link(owner_client, settings):
    settings.GAITU_FETCH_ALLOW_HOSTS = []
    with serve(Server(("127.0.0.1", 0))) as pictures:
        pictures.routes["/inside.png"] = ok(image_bytes(fmt="PNG"))
        response = post(
            owner_client, {"instruction": "add fog", "image_url": pictures.url("/inside.png")}
        )
    assert response["HX-Retarget"] == "#upload-feedback"
    assert str(LINK_PROBLEMS["loopback_address"]) in errors_box(response, "image_url")
    assert pictures.hits["/inside.png"] == 0
    assert nothing_stored()


def test_the_gateways_models_come_with_their_offers(owner_client, settings, monkeypatch):
    from django.core.cache import cache

    from editor import gateways

    cache.clear()
    settings.GAITU_DEMO = False
    settings.GAITU_API_KEY = "k"
    listed = ["gpt-image-1-mini", "gpt-image-1"]
    monkeypatch.setattr(gateways, "list_models", lambda gateway: listed)
    response = owner_client.get(reverse("model_options"), {"model": "gpt-image-1"})
    assert '<option value="gpt-image-1-mini">gpt-image-1-mini</option>' in response.text
    offers = json.loads(response["HX-Trigger"])["gaitu:model-offers"]["offers"]
    assert offers["gpt-image-1-mini"] == {"size": True, "n": True, "quality": True}
    assert offers["gpt-4o-image"]["quality"] is False
    cache.clear()
