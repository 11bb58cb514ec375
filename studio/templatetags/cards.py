"""An edit's card, rendered once for as long as nothing it shows changes.

A card is the most expensive part of the studio's pages (some 200 template nodes, two dozen
{% url %}s and as many translations each), and a finished edit's card is the same at every
visit. So a finished card is kept, in this process, under a fingerprint of all it is made
from: every column of the edit, of its pictures and of its share, and the reader's language,
time zone and host. Anything that changes one of those changes the key, so a kept card is
never stale; nothing has to remember to forget it. A running edit's card changes every moment
(its progress), and is rendered each time.

The forms in a card carry the reader's CSRF token, which differs per request: the card is kept
with a placeholder in its place, and the token is put in on the way out.
"""

import hashlib
import threading
from collections import OrderedDict

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.core.signals import setting_changed
from django.db.models import Model
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from editor.models import Edit

register = template.Library()

TEMPLATE = "studio/edit_card.html"
# Up to this many cards per process (a card is 4-8 KB: some 8 MB at most).
KEPT_CARDS = 1024
# Letters only: format_html leaves it as it is, and no card's own text holds it.
CSRF_MARK = "gaitucsrfplaceholderq7Zx3Kp9"


class RenderedCards:
    """A bounded, thread-safe store of rendered cards, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cards: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> str | None:
        with self._lock:
            card = self._cards.get(key)
            if card is not None:
                self._cards.move_to_end(key)
            return card

    def put(self, key: bytes, card: str) -> None:
        with self._lock:
            self._cards[key] = card
            self._cards.move_to_end(key)
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cards.clear()

    def __len__(self) -> int:
        return len(self._cards)


rendered_cards = RenderedCards(KEPT_CARDS)


def _forget_on_setting_change(**kwargs: object) -> None:
    # A setting can change what a card says (tests override them): start afresh.
    rendered_cards.clear()


setting_changed.connect(_forget_on_setting_change)


def _columns(row: Model) -> tuple[object, ...]:
    return tuple(getattr(row, field.attname) for field in row._meta.concrete_fields)


def card_fingerprint(edit: Edit, size: str, context: template.Context) -> bytes:
    """What the card is made of, as a key: the same key, the same card."""
    try:
        share: tuple[object, ...] | None = _columns(edit.share)
    except ObjectDoesNotExist:
        share = None
    request = context.get("request")
    parts = (
        TEMPLATE,
        size,
        get_language(),
        get_current_timezone_name(),
        request.scheme if request else None,
        request.get_host() if request else None,
        _columns(edit),
        [_columns(source) for source in edit.sources.all()],
        [_columns(result) for result in edit.results.all()],
        share,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()


@register.simple_tag(takes_context=True)
def edit_card(context: template.Context, edit: Edit, size: str = "thumb") -> SafeString:
    """studio/edit_card.html for `edit`, from the kept cards when it is finished."""
    engine = context.template.engine if context.template else template.Engine.get_default()
    card_template = engine.get_template(TEMPLATE)
    csrf = context.get("csrf_token")
    if edit.is_active or not csrf or csrf == "NOTPROVIDED":
        with context.push(edit=edit, size=size):
            return card_template.render(context)
    key = card_fingerprint(edit, size, context)
    card = rendered_cards.get(key)
    if card is None:
        with context.push(edit=edit, size=size, csrf_token=CSRF_MARK):
            card = str(card_template.render(context))
        rendered_cards.put(key, card)
    # The card is the template engine's own escaped output, and the token letters and digits.
    return mark_safe(card.replace(CSRF_MARK, str(csrf)))  # noqa: S308
