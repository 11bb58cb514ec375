"""A person's instructions are remembered from their edits: once per batch or comparison, the
latest few kept, starred ones always."""

from datetime import timedelta

import pytest
from django.utils import timezone

from editor.models import Edit, EditGroup
from instructions import services
from instructions.models import ReadyInstruction, SavedInstruction

pytestmark = pytest.mark.django_db


def make_edit(owner, instruction: str, group: EditGroup | None = None, **fields) -> Edit:
    return Edit.objects.create(
        owner=owner, instruction=instruction, model="gpt-image-1", group=group, **fields
    )


def test_an_edit_remembers_its_instruction_and_a_second_counts_again(owner):
    first = make_edit(owner, "  make it snow ")
    make_edit(owner, "make it snow")
    saved = SavedInstruction.objects.get(owner=owner)
    assert (saved.text, saved.uses, saved.starred) == ("make it snow", 2, False)
    assert saved.last_used_at >= first.created_at


def test_saving_an_edit_again_is_no_new_use(owner):
    edit = make_edit(owner, "make it snow")
    edit.status = Edit.Status.FAILED
    edit.save()
    assert SavedInstruction.objects.get(owner=owner).uses == 1


@pytest.mark.parametrize("kind", EditGroup.Kind.values)
def test_a_batch_or_comparison_is_one_use(owner, kind):
    group = EditGroup.objects.create(owner=owner, kind=kind, instruction="sepia")
    for _ in range(3):
        make_edit(owner, "sepia", group=group)
    assert SavedInstruction.objects.get(owner=owner).uses == 1
    make_edit(owner, "sepia")  # on its own, it is another use
    assert SavedInstruction.objects.get(owner=owner).uses == 2


def test_each_person_has_their_own(owner, stranger):
    make_edit(owner, "sepia")
    make_edit(stranger, "sepia")
    assert SavedInstruction.objects.filter(text="sepia").count() == 2
    assert SavedInstruction.objects.get(owner=stranger).uses == 1


def test_only_the_latest_unstarred_are_kept_and_starred_ones_stay(owner):
    start = timezone.now() - timedelta(days=1)
    services.record_use(owner, "the first, starred", when=start)
    starred = SavedInstruction.objects.get(text="the first, starred")
    services.set_starred(starred, True)
    for n in range(services.KEEP_UNSTARRED + 5):
        services.record_use(owner, f"instruction {n}", when=start + timedelta(minutes=n + 1))
    mine = SavedInstruction.objects.filter(owner=owner)
    assert mine.filter(starred=False).count() == services.KEEP_UNSTARRED
    assert mine.filter(starred=True).get().text == "the first, starred"
    # The oldest went, the newest stayed.
    kept = set(mine.filter(starred=False).values_list("text", flat=True))
    assert "instruction 0" not in kept and f"instruction {services.KEEP_UNSTARRED + 4}" in kept


def test_unstarring_makes_room_by_letting_the_oldest_go(owner):
    start = timezone.now() - timedelta(days=1)
    services.record_use(owner, "old favourite", when=start)
    favourite = SavedInstruction.objects.get(text="old favourite")
    services.set_starred(favourite, True)
    for n in range(services.KEEP_UNSTARRED):
        services.record_use(owner, f"instruction {n}", when=start + timedelta(minutes=n + 1))
    services.set_starred(favourite, False)
    # Unstarred, it is the oldest of 21: it goes.
    assert not SavedInstruction.objects.filter(pk=favourite.pk).exists()
    assert SavedInstruction.objects.filter(owner=owner).count() == services.KEEP_UNSTARRED


def test_a_long_chinese_instruction_is_kept_whole(owner):
    long_text = "把背景换成蓝天白云，" * 400  # 4,000 characters, 12,000 bytes
    make_edit(owner, long_text)
    make_edit(owner, long_text)
    saved = SavedInstruction.objects.get(owner=owner)
    assert (saved.text, saved.uses) == (long_text, 2)


def test_the_picker_shows_starred_then_the_recent_few_then_the_ready_made(owner):
    start = timezone.now() - timedelta(days=1)
    for n in range(services.RECENT_IN_PICKER + 2):
        services.record_use(owner, f"instruction {n}", when=start + timedelta(minutes=n))
    services.set_starred(SavedInstruction.objects.get(text="instruction 0"), True)
    choices = services.picker_choices(owner, "en")
    assert [s.text for s in choices.starred] == ["instruction 0"]
    newest = services.RECENT_IN_PICKER + 1
    assert [s.text for s in choices.recent] == [
        f"instruction {n}" for n in range(newest, newest - services.RECENT_IN_PICKER, -1)
    ]
    assert choices.ready[0].label == "Remove background"  # the seeded list, in order
    assert len(choices.ready) == 7


def test_the_seeded_list_has_the_catalogues_chinese():
    seeded = list(ReadyInstruction.objects.all())
    assert [item.label_en for item in seeded] == [
        "Remove background",
        "Blue sky",
        "Watercolour",
        "Anime style",
        "Restore old photo",
        "Product on white",
        "Black and white",
    ]
    assert all(item.has_chinese() for item in seeded)
    assert seeded[1].shown_in("zh-hans") == ("蓝天背景", "把背景换成蓝天白云")
    assert seeded[1].shown_in("en") == (
        "Blue sky",
        "Replace the background with a blue sky and white clouds",
    )


def test_without_chinese_a_ready_made_one_shows_its_english():
    item = ReadyInstruction(label_en="Sepia", text_en="Old sepia tones", label_zh="棕褐色")
    assert item.shown_in("zh-hans") == ("Sepia", "Old sepia tones")


def test_moving_swaps_with_the_neighbour_and_stops_at_either_end():
    first, second, *_rest, last = ReadyInstruction.objects.all()
    assert services.move(second, up=True)
    assert list(ReadyInstruction.objects.values_list("pk", flat=True)[:2]) == [second.pk, first.pk]
    assert not services.move(second, up=True)
    assert not services.move(last, up=False)
    # Two at the same position (set by hand in the admin) still swap.
    ReadyInstruction.objects.update(position=0)
    ordered = list(ReadyInstruction.objects.all())
    assert services.move(ordered[0], up=False)
    assert list(ReadyInstruction.objects.values_list("pk", flat=True)[:2]) == [
        ordered[1].pk,
        ordered[0].pk,
    ]
