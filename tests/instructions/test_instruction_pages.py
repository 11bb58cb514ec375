"""Star and forget one's own instructions (with htmx or a plain form), the picker in the studio
in both languages, and the owner's ready-made list: nobody else's, and never without CSRF."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from instructions import services
from instructions.models import ReadyInstruction, SavedInstruction

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "instruction-picker"}


@pytest.fixture
def site_owner(db):
    return get_user_model().objects.create_superuser("boss", password="a long owner password")


@pytest.fixture
def boss_client(site_owner):
    client = Client()
    client.force_login(site_owner)
    return client


@pytest.fixture
def saved(owner) -> SavedInstruction:
    services.record_use(owner, "make it <snow> & sparkle")
    return SavedInstruction.objects.get(owner=owner)


def in_language(client: Client, code: str) -> Client:
    client.cookies["django_language"] = code
    return client


def test_the_studio_shows_the_picker_with_ones_own_and_the_ready_made(owner_client, saved):
    page = owner_client.get(reverse("studio")).text
    assert 'id="instruction-picker"' in page
    picker = page[page.index('id="instruction-picker"') :]
    # Own first (escaped, as data-preset that upload.js writes into the box), then ready-made.
    own = picker.index('data-preset="make it &lt;snow&gt; &amp; sparkle"')
    ready = picker.index('data-preset="Remove the background, keep the subject sharp"')
    assert own < ready
    assert f'id="instruction-star-{saved.pk}"' in picker and 'aria-pressed="false"' in picker
    assert 'aria-labelledby="instructions-recent-label"' in picker
    assert 'aria-labelledby="instructions-starred-label"' not in picker  # none starred yet
    assert reverse("ready_instructions") not in picker  # the owner's link only


def test_the_ready_made_chips_are_in_the_readers_language(owner_client):
    english = in_language(owner_client, "en").get(reverse("studio")).text
    assert ">Blue sky</button>" in english
    chinese = in_language(owner_client, "zh-hans").get(reverse("studio")).text
    assert 'data-preset="把背景换成蓝天白云"' in chinese and ">蓝天背景</button>" in chinese
    assert ">Blue sky</button>" not in chinese


def test_starring_with_htmx_draws_the_picker_again(owner_client, saved):
    response = owner_client.post(
        reverse("instruction_star", args=[saved.pk]), {"starred": "true"}, **HTMX
    )
    assert response.status_code == 200
    saved.refresh_from_db()
    assert saved.starred
    assert response.text.lstrip().startswith('<div id="instruction-picker"')
    assert 'aria-labelledby="instructions-starred-label"' in response.text
    star = re.search(rf'<button[^>]*id="instruction-star-{saved.pk}"[^>]*>', response.text)
    assert star and 'aria-pressed="true"' in star.group(0)

    owner_client.post(reverse("instruction_star", args=[saved.pk]), {"starred": "false"}, **HTMX)
    saved.refresh_from_db()
    assert not saved.starred


def test_without_scripts_starring_and_forgetting_come_back_to_the_page(owner_client, saved):
    mine = reverse("my_instructions")
    page = owner_client.get(mine)
    assert page.status_code == 200 and "make it &lt;snow&gt; &amp; sparkle" in page.text
    response = owner_client.post(
        reverse("instruction_star", args=[saved.pk]), {"starred": "true", "next": mine}
    )
    assert response.status_code == 302 and response.url == mine
    saved.refresh_from_db()
    assert saved.starred
    response = owner_client.post(reverse("instruction_forget", args=[saved.pk]), {"next": mine})
    assert response.status_code == 302 and response.url == mine
    assert not SavedInstruction.objects.filter(pk=saved.pk).exists()


def test_next_elsewhere_is_not_followed(owner_client, saved):
    response = owner_client.post(
        reverse("instruction_star", args=[saved.pk]),
        {"starred": "true", "next": "https://elsewhere.example/"},
    )
    assert response.url == reverse("my_instructions")


def test_nobody_stars_or_forgets_anothers(saved, stranger):
    other = Client()
    other.force_login(stranger)
    star = other.post(reverse("instruction_star", args=[saved.pk]), {"starred": "true"}, **HTMX)
    forget = other.post(reverse("instruction_forget", args=[saved.pk]))
    assert (star.status_code, forget.status_code) == (404, 404)
    saved.refresh_from_db()
    assert not saved.starred
    assert saved.text not in other.get(reverse("studio")).text
    assert saved.text not in other.get(reverse("my_instructions")).text


def test_starring_and_forgetting_are_post_only(owner_client, saved):
    assert owner_client.get(reverse("instruction_star", args=[saved.pk])).status_code == 405
    assert owner_client.get(reverse("instruction_forget", args=[saved.pk])).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(owner, saved, site_owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    url = reverse("instruction_star", args=[saved.pk])
    assert strict.post(url, {"starred": "true"}, **HTMX).status_code == 403
    saved.refresh_from_db()
    assert not saved.starred
    # htmx sends the token in a header (base.html's hx-headers).
    strict.get(reverse("studio"))
    token = strict.cookies["csrftoken"].value
    answer = strict.post(url, {"starred": "true"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert answer.status_code == 200

    boss = Client(enforce_csrf_checks=True)
    boss.force_login(site_owner)
    before = ReadyInstruction.objects.count()
    added = boss.post(reverse("ready_instructions"), {"label_en": "Sepia", "text_en": "Sepia"})
    assert added.status_code == 403 and ReadyInstruction.objects.count() == before


def test_the_picker_is_drawn_again_with_the_latest(owner_client, owner):
    services.record_use(owner, "sent just now")
    response = owner_client.get(reverse("instruction_picker"), **HTMX)
    assert response.status_code == 200 and 'data-preset="sent just now"' in response.text


# --- The owner's ready-made list -----------------------------------------------------------

READY_URLS = [
    ("ready_instructions", "get"),
    ("ready_instructions", "post"),
    ("ready_instruction_edit", "get"),
    ("ready_instruction_edit", "post"),
    ("ready_instruction_move", "post"),
    ("ready_instruction_delete", "post"),
]


@pytest.mark.parametrize(("name", "method"), READY_URLS)
def test_only_the_owner_edits_the_ready_made_list(owner_client, name, method):
    item = ReadyInstruction.objects.first()
    args = [] if name == "ready_instructions" else [item.pk]
    data = {"label_en": "Hacked", "text_en": "Hacked", "direction": "down"}
    response = getattr(owner_client, method)(reverse(name, args=args), data)
    assert response.status_code == 403
    assert ReadyInstruction.objects.count() == 7
    assert not ReadyInstruction.objects.filter(label_en="Hacked").exists()
    assert ReadyInstruction.objects.first() == item


def test_someone_signed_out_is_sent_to_log_in(client):
    response = client.get(reverse("ready_instructions"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_owner_edits_both_languages_and_the_studio_shows_them(boss_client):
    item = ReadyInstruction.objects.get(label_en="Blue sky")
    page = boss_client.get(reverse("ready_instruction_edit", args=[item.pk]))
    assert page.status_code == 200 and "把背景换成蓝天白云" in page.text
    response = boss_client.post(
        reverse("ready_instruction_edit", args=[item.pk]),
        {
            "label_en": "Sunset sky",
            "text_en": "Replace the sky with a warm sunset",
            "label_zh": "日落天空",
            "text_zh": "把天空换成温暖的日落",
        },
    )
    assert response.status_code == 302 and response.url == reverse("ready_instructions")
    item.refresh_from_db()
    assert (item.label_en, item.text_zh) == ("Sunset sky", "把天空换成温暖的日落")
    english = in_language(boss_client, "en").get(reverse("studio")).text
    assert 'data-preset="Replace the sky with a warm sunset"' in english
    assert reverse("ready_instructions") in english  # the owner's way to the list
    chinese = in_language(boss_client, "zh-hans").get(reverse("studio")).text
    assert ">日落天空</button>" in chinese


def test_chinese_is_whole_or_absent(boss_client):
    item = ReadyInstruction.objects.get(label_en="Blue sky")
    response = boss_client.post(
        reverse("ready_instruction_edit", args=[item.pk]),
        {"label_en": "Blue sky", "text_en": "Blue sky please", "label_zh": "蓝天", "text_zh": ""},
    )
    assert response.status_code == 400
    assert "Give the Chinese instruction too" in response.text
    item.refresh_from_db()
    assert item.text_en == "Replace the background with a blue sky and white clouds"
    # Both empty is fine: Chinese readers see the English.
    response = boss_client.post(
        reverse("ready_instruction_edit", args=[item.pk]),
        {"label_en": "Blue sky", "text_en": "Blue sky please", "label_zh": "", "text_zh": ""},
    )
    assert response.status_code == 302
    with translation.override("zh-hans"):
        assert services.picker_choices(None, translation.get_language()).ready[1].label == (
            "Blue sky"
        )


def test_the_owner_adds_moves_and_deletes(boss_client):
    response = boss_client.post(
        reverse("ready_instructions"),
        {"label_en": "Sepia", "text_en": "Warm sepia tones", "label_zh": "", "text_zh": ""},
    )
    assert response.status_code == 302
    added = ReadyInstruction.objects.get(label_en="Sepia")
    assert list(ReadyInstruction.objects.all())[-1] == added  # added at the end
    page = boss_client.get(reverse("ready_instructions")).text
    assert "Warm sepia tones" in page and "No Chinese" in page

    boss_client.post(reverse("ready_instruction_move", args=[added.pk]), {"direction": "up"})
    assert list(ReadyInstruction.objects.all())[-2] == added
    boss_client.post(reverse("ready_instruction_move", args=[added.pk]), {"direction": "sideways"})
    assert list(ReadyInstruction.objects.all())[-2] == added

    boss_client.post(reverse("ready_instruction_delete", args=[added.pk]))
    assert not ReadyInstruction.objects.filter(pk=added.pk).exists()


def test_an_empty_addition_is_refused_with_its_errors(boss_client):
    response = boss_client.post(reverse("ready_instructions"), {"label_en": "", "text_en": ""})
    assert response.status_code == 400 and ReadyInstruction.objects.count() == 7


def test_a_studio_edit_is_remembered(owner_client, owner, run_jobs):
    from tests.support.factories import upload

    with run_jobs():
        response = owner_client.post(
            reverse("studio"),
            {"instruction": "paint it gold", "model": "gpt-4o-image", "images": [upload()]},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert SavedInstruction.objects.get(owner=owner).text == "paint it gold"
    recent = timezone.now() - timedelta(minutes=5)
    assert SavedInstruction.objects.get(owner=owner).last_used_at > recent
