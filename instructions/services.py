"""What happens to instructions: remembering one a person used, starring, forgetting, the
owner's ready-made list in order, and what the picker shows. Views and receivers call these."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from .models import ReadyInstruction, SavedInstruction, digest_of

# How many instructions a person keeps that they have not starred: the oldest go, so the list
# never grows without end. Starred ones are kept however many there are.
KEEP_UNSTARRED = 20
# How many of the recent ones the picker shows.
RECENT_IN_PICKER = 6


def record_use(owner: User, text: str, when: datetime | None = None) -> None:
    """Remember that a person used an instruction (once more), then let the oldest go."""
    text = text.strip()
    if not text:
        return
    when = when or timezone.now()
    mine = SavedInstruction.objects.filter(owner=owner, digest=digest_of(text))
    if not mine.update(uses=F("uses") + 1, last_used_at=when):
        try:
            # A savepoint: the caller's transaction (the edit's) goes on if another request
            # remembered the same text first.
            with transaction.atomic():
                SavedInstruction.objects.create(owner=owner, text=text, uses=1, last_used_at=when)
        except IntegrityError:
            mine.update(uses=F("uses") + 1, last_used_at=when)
    trim(owner)


def trim(owner: User) -> int:
    """Forget all but the latest KEEP_UNSTARRED unstarred instructions; how many went."""
    older = SavedInstruction.objects.filter(owner=owner, starred=False).order_by(
        "-last_used_at", "-id"
    )[KEEP_UNSTARRED:]
    gone = list(older.values_list("pk", flat=True))
    if not gone:
        return 0
    return SavedInstruction.objects.filter(pk__in=gone).delete()[0]


def set_starred(saved: SavedInstruction, starred: bool) -> None:
    """Star or unstar; an instruction unstarred counts among the recent ones again, so the
    oldest of those may go."""
    saved.starred = starred
    saved.save(update_fields=["starred"])
    if not starred:
        trim(saved.owner)


def forget(saved: SavedInstruction) -> None:
    saved.delete()


@dataclass(frozen=True)
class ReadyChip:
    """A ready-made instruction as one reader sees it."""

    label: str
    text: str


@dataclass(frozen=True)
class PickerChoices:
    starred: list[SavedInstruction]
    recent: list[SavedInstruction]
    ready: list[ReadyChip]

    @property
    def has_own(self) -> bool:
        return bool(self.starred or self.recent)


def picker_choices(owner: User | AnonymousUser | None, language: str | None) -> PickerChoices:
    """Starred first, then the most recent few, then the ready-made list in this language."""
    starred: list[SavedInstruction] = []
    recent: list[SavedInstruction] = []
    if isinstance(owner, User):
        mine = SavedInstruction.objects.filter(owner=owner)
        starred = list(mine.filter(starred=True).order_by("-last_used_at", "-id"))
        recent = list(
            mine.filter(starred=False).order_by("-last_used_at", "-id")[:RECENT_IN_PICKER]
        )
    ready = [ReadyChip(*item.shown_in(language)) for item in ReadyInstruction.objects.all()]
    return PickerChoices(starred=starred, recent=recent, ready=ready)


def next_position() -> int:
    last = ReadyInstruction.objects.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def move(item: ReadyInstruction, *, up: bool) -> bool:
    """Swap a ready-made instruction with its neighbour above or below; False at either end.

    Positions are numbered again from 0 first, so two that share a number (added by hand in
    the admin) still swap.
    """
    with transaction.atomic():
        ordered = list(ReadyInstruction.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, other in enumerate(ordered) if other.pk == item.pk)
        neighbour = index - 1 if up else index + 1
        if not 0 <= neighbour < len(ordered):
            return False
        ordered[index], ordered[neighbour] = ordered[neighbour], ordered[index]
        for position, other in enumerate(ordered):
            if other.position != position:
                other.position = position
                other.save(update_fields=["position"])
        return True
