"""What an edit's card says and offers: its status when canceled, Retry only where it can
help, every original of a multi-picture edit, the picked result's actions, and the admin's
names for the editor's models."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from editor.failures import FAILURE_MESSAGES
from editor.models import Edit, ResultImage, SourceImage
from tests.support.factories import upload

# Retry would meet the same refusal again: the key, the quota, the request, the file, the link.
RETRY_CANNOT_HELP = {
    "key_rejected",
    "quota_exhausted",
    "bad_request",
    "unreadable_picture",
    "link_blocked",
}


def an_edit(owner, sources: int = 1, results: int = 0, **fields) -> Edit:
    edit = Edit.objects.create(owner=owner, instruction="warmer light", model="m", **fields)
    for position in range(sources):
        SourceImage.objects.create(
            edit=edit, position=position, file=f"originals/{position}.jpg", width=640,
            height=480, content_type="image/jpeg",
        )  # fmt: skip
    for position in range(results):
        ResultImage.objects.create(
            edit=edit, position=position, file=f"results/{position}.png", width=1024 + position,
            height=768, content_type="image/png", thumbnail=f"thumbs/r{position}.webp",
        )  # fmt: skip
    return edit


def card_of(client, edit: Edit) -> str:
    response = client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("code", sorted(FAILURE_MESSAGES))
def test_retry_is_offered_only_where_it_can_help(owner_client, owner, code):
    edit = an_edit(owner, status=Edit.Status.FAILED, error_code=code)
    card = card_of(owner_client, edit)
    assert escape(str(FAILURE_MESSAGES[code])) in card
    offered = reverse("edit_retry", args=[edit.pk]) in card
    assert offered is (code not in RETRY_CANNOT_HELP)
    assert edit.can_retry is offered


def test_a_canceled_edit_says_so_and_when_and_can_be_retried(owner_client, owner):
    finished = timezone.make_aware(timezone.datetime(2026, 3, 4, 5, 6))
    edit = an_edit(owner, status=Edit.Status.CANCELED, finished_at=finished)
    card = card_of(owner_client, edit)
    line = re.search(r"<p class=\"status-line\"[^>]*>(.*?)</p>", card, re.S)
    assert line, card
    assert "<strong>Canceled</strong>" in line.group(1)
    assert 'datetime="2026-03-04T05:06:00' in line.group(1)
    assert reverse("edit_retry", args=[edit.pk]) in card
    chinese = owner_client.get(
        reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh"
    )
    assert "<strong>已取消</strong>" in chinese.text


def test_a_queued_multi_picture_card_leaves_a_place_for_each_chosen_picture(owner_client, owner):
    edit = an_edit(owner, sources=4)
    card = card_of(owner_client, edit)
    # Each original without a thumbnail yet: one place each, for upload.js's preview.
    assert re.findall(r'data-pending-source="(\d+)"', card) == ["0", "1", "2", "3"]


def test_a_multi_picture_card_shows_every_original(owner_client, owner):
    edit = an_edit(owner, sources=3, results=1, status=Edit.Status.SUCCEEDED)
    SourceImage.objects.filter(edit=edit).update(thumbnail="thumbs/s.webp")
    card = card_of(owner_client, edit)
    assert "data-pending-source" not in card
    strip = re.search(r'<ul class="source-strip".*?</ul>', card, re.S)
    assert strip, card
    for position in (1, 2):  # the first is the large one
        assert reverse("media", args=[edit.pk, "source", position, "thumb"]) in strip.group(0)
    assert reverse("media", args=[edit.pk, "source", 0, "thumb"]) not in strip.group(0)


def test_each_result_button_carries_that_results_actions(owner_client, owner):
    edit = an_edit(owner, results=2, status=Edit.Status.SUCCEEDED)
    card = card_of(owner_client, edit)
    buttons = re.findall(r'<button type="button" class="thumb-button".*?>', card, re.S)
    assert len(buttons) == 2
    for position, button in enumerate(buttons):
        assert f'data-show-result="{position}"' in button
        media = reverse("media", args=[edit.pk, "result", position, "download"])
        assert f'data-download="{media}"' in button
        assert f'data-again="{reverse("studio")}?again={edit.pk}:{position}"' in button
        assert f'data-width="{1024 + position}"' in button


def test_captions_and_downloads_use_the_same_words(owner_client, owner, run_jobs):
    data = {"instruction": "sepia", "model": "gpt-4o-image", "images": [upload()]}
    with run_jobs():
        owner_client.post(reverse("studio"), data, HTTP_HX_REQUEST="true")
    edit = Edit.objects.get()
    card = card_of(owner_client, edit)
    assert "<figcaption>Original" in card and "<figcaption>Result</figcaption>" in card
    assert "Download original" in card and "Download result" in card
    names = []
    for kind in ("source", "result"):
        download = owner_client.get(reverse("media", args=[edit.pk, kind, 0, "download"]))
        names.append(re.search(r'filename="gaitu-\w+-(\w+)\.', download["Content-Disposition"]))
    assert [name.group(1) for name in names] == ["original", "result"]
    chinese = owner_client.get(
        reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh"
    ).text
    assert "<figcaption>原图" in chinese and "<figcaption>效果图</figcaption>" in chinese
    assert "下载原图" in chinese and "下载效果图" in chinese


@pytest.mark.parametrize(
    ("language", "names"),
    [("en", ["Edits", "Shares"]), ("zh-hans", ["编辑记录", "分享链接"])],
)
def test_the_admin_names_the_editors_models_in_each_language(client, db, language, names):
    admin = get_user_model().objects.create_superuser("boss", password="a long pass phrase")
    client.force_login(admin)
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language).text
    for name in names:
        assert f">{name}</a>" in index
    edit = an_edit(admin, results=1)
    page = client.get(
        reverse("admin:editor_edit_change", args=[edit.pk]), HTTP_ACCEPT_LANGUAGE=language
    ).text
    inlines = ["Originals", "Results"] if language == "en" else ["原图", "效果图"]
    for heading in inlines:
        assert re.search(rf'class="inline-heading">\s*{heading}\s*</h2>', page), heading
