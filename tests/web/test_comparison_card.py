"""A comparison's card: the originals once, a column per model with its own progress, failure,
Retry, result and usage; a winner picked by its owner only; and each column kept up to date
by the live updates, which ask for it by its edit's id as for any card."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from editor.failures import FAILURE_MESSAGES
from editor.models import Edit, EditGroup, ResultImage, SourceImage
from tests.support.factories import image_bytes


def a_column(group: EditGroup, model: str, **fields) -> Edit:
    edit = Edit.objects.create(
        owner=group.owner, instruction=group.instruction, model=model, group=group, **fields
    )
    source = SourceImage(
        edit=edit, position=0, width=96, height=64, content_type="image/png",
        metadata_removed=True, thumbnail=f"thumbs/{model}.webp",
    )  # fmt: skip
    source.file.save("o.png", ContentFile(image_bytes((96, 64), "PNG")), save=True)
    if fields.get("status") == Edit.Status.SUCCEEDED:
        result = ResultImage(edit=edit, position=0, width=96, height=64, content_type="image/png")
        result.file.save("r.png", ContentFile(image_bytes((96, 64), "PNG")), save=True)
    return edit


@pytest.fixture
def comparison(owner):
    group = EditGroup.objects.create(
        owner=owner, kind=EditGroup.Kind.COMPARISON, instruction="a warmer light"
    )
    made = a_column(
        group, "good-model", status=Edit.Status.SUCCEEDED,
        usage={"prompt_tokens": 800, "completion_tokens": 34, "total_tokens": 834},
    )  # fmt: skip
    failed = a_column(
        group, "broken-model", status=Edit.Status.FAILED, error_code="model_unavailable",
        error_detail="no such model",
    )  # fmt: skip
    running = a_column(group, "slow-model", status=Edit.Status.RUNNING, progress=40)
    return group, made, failed, running


def studio_page(client: Client) -> str:
    response = client.get(reverse("studio"))
    assert response.status_code == 200
    return response.text


def column_of(page: str, edit: Edit) -> str:
    found = re.search(
        rf'<section class="[^"]*compare-column[^"]*" id="edit-{edit.pk}".*?</section>', page, re.S
    )
    assert found, page
    return found.group(0)


def test_the_card_shows_the_originals_once_and_a_column_per_model(owner_client, comparison):
    group, made, failed, running = comparison
    page = studio_page(owner_client)
    card = page[page.index(f'id="group-{group.pk}"') :]
    assert card.count('class="compare-originals"') == 1
    assert card.count("/source/0/thumb") == 1
    assert re.findall(r'<h3 class="compare-model" id="model-[^"]+">([\w-]+)', card) == [
        "good-model",
        "broken-model",
        "slow-model",
    ]

    good = column_of(card, made)
    assert f"/media/{made.pk}/result/0/display" in good
    assert "834 tokens" in good
    assert reverse("group_choose_winner", args=[group.pk, made.pk]) in good

    broken = column_of(card, failed)
    assert escape(str(FAILURE_MESSAGES["model_unavailable"])) in broken
    assert reverse("edit_retry", args=[failed.pk]) in broken
    assert "group_choose_winner" not in broken and "/winner/" not in broken

    slow = column_of(card, running)
    assert "<progress" in slow and 'value="40"' in slow
    assert "data-live" in slow
    assert f'hx-get="{reverse("edit_detail", args=[running.pk])}"' in slow
    assert reverse("edit_cancel", args=[running.pk]) in slow
    # Only the running column is followed.
    assert "data-live" not in good and "data-live" not in broken


def test_a_live_update_of_a_column_gets_the_column(owner_client, comparison):
    group, _made, _failed, running = comparison
    running.status, running.progress = Edit.Status.SUCCEEDED, 100
    running.save()
    ResultImage.objects.create(
        edit=running, position=0, file="results/x.png", width=96, height=64,
        content_type="image/png",
    )  # fmt: skip
    response = owner_client.get(
        reverse("edit_detail", args=[running.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    )
    assert response.status_code == 200
    column = response.text.strip()
    assert column.startswith("<section")  # swapped in place of the column, not a whole card
    assert f'id="edit-{running.pk}"' in column
    assert "data-live" not in column
    assert reverse("group_choose_winner", args=[group.pk, running.pk]) in column
    # On its own page, the edit has its whole card.
    own_page = owner_client.get(
        reverse("edit_detail", args=[running.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{reverse('edit_detail', args=[running.pk])}",
    )
    assert own_page.text.strip().startswith("<article")


def test_retry_from_a_column_answers_with_the_column(owner_client, comparison, monkeypatch):
    _group, _made, failed, _running = comparison
    monkeypatch.setattr("editor.services.retry", lambda edit: True)
    response = owner_client.post(
        reverse("edit_retry", args=[failed.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    )
    assert response.status_code == 200
    assert response.text.strip().startswith(
        f'<section class="edit-card compare-column" id="edit-{failed.pk}"'
    )


def test_the_owner_picks_a_winner_and_the_card_marks_it(owner_client, comparison):
    group, made, _failed, _running = comparison
    url = reverse("group_choose_winner", args=[group.pk, made.pk])
    response = owner_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    group.refresh_from_db()
    assert group.winner == made
    card = response.text
    assert f'id="group-{group.pk}"' in card
    winner = column_of(card, made)
    assert "compare-column winner" in winner
    assert "Winner" in winner
    assert url not in winner  # nothing more to pick there


def test_without_javascript_picking_a_winner_goes_back_to_the_studio(owner_client, comparison):
    group, made, _failed, _running = comparison
    response = owner_client.post(reverse("group_choose_winner", args=[group.pk, made.pk]))
    assert response.status_code == 302
    page = owner_client.get(response["Location"]).text
    assert "compare-column winner" in page


def test_a_model_that_made_nothing_cannot_win(owner_client, comparison):
    group, _made, failed, _running = comparison
    response = owner_client.post(reverse("group_choose_winner", args=[group.pk, failed.pk]))
    assert response.status_code == 400
    group.refresh_from_db()
    assert group.winner is None


def test_someone_else_cannot_pick_a_winner(client, stranger, comparison):
    group, made, _failed, _running = comparison
    client.force_login(stranger)
    response = client.post(reverse("group_choose_winner", args=[group.pk, made.pk]))
    assert response.status_code == 404
    group.refresh_from_db()
    assert group.winner is None


def test_an_edit_of_another_group_is_not_this_ones_winner(owner_client, owner, comparison):
    _group, made, _failed, _running = comparison
    other = EditGroup.objects.create(owner=owner, kind=EditGroup.Kind.COMPARISON, instruction="x")
    response = owner_client.post(reverse("group_choose_winner", args=[other.pk, made.pk]))
    assert response.status_code == 404


def test_picking_a_winner_needs_the_csrf_token(owner, comparison):
    group, made, _failed, _running = comparison
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(owner)
    response = checked.post(reverse("group_choose_winner", args=[group.pk, made.pk]))
    assert response.status_code == 403
