"""Instructions beside the studio's text box: the ready-made ones the owner keeps (in English
and Chinese), and each person's own, remembered from their edits."""

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReadyInstruction(models.Model):
    """A ready-made instruction: a short label on its chip and the text it writes, in both
    languages of the interface. The owner edits the list (/instructions/ready/)."""

    label_en = models.CharField(_("label in English"), max_length=60)
    text_en = models.TextField(_("instruction in English"), max_length=4000)
    # Empty: Chinese readers see the English, never a Chinese label on English text.
    label_zh = models.CharField(_("label in Chinese"), max_length=60, blank=True)
    text_zh = models.TextField(_("instruction in Chinese"), max_length=4000, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ready-made instruction")
        verbose_name_plural = _("ready-made instructions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label_en

    def has_chinese(self) -> bool:
        return bool(self.label_zh.strip() and self.text_zh.strip())

    def shown_in(self, language: str | None) -> tuple[str, str]:
        """The label and the text for a reader of this language (a Django language code)."""
        if (language or "").lower().startswith("zh") and self.has_chinese():
            return self.label_zh, self.text_zh
        return self.label_en, self.text_en


def digest_of(text: str) -> str:
    """What makes a person's instruction unique: a hash, because an index on the text itself
    is too large on PostgreSQL for a long Chinese instruction (btree rows stop at ~2.7 kB)."""
    return hashlib.sha256(text.encode()).hexdigest()


class SavedInstruction(models.Model):
    """An instruction a person has used: recent ones come and go, starred ones stay."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="saved_instructions",
        verbose_name=_("owner"),
    )
    text = models.TextField(_("instruction"), max_length=4000)
    digest = models.CharField(max_length=64, editable=False)
    starred = models.BooleanField(_("starred"), default=False)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)

    class Meta:
        verbose_name = _("saved instruction")
        verbose_name_plural = _("saved instructions")
        constraints = [
            models.UniqueConstraint(fields=["owner", "digest"], name="saved_instruction_once")
        ]
        indexes = [models.Index(fields=["owner", "-last_used_at"], name="saved_instruction_recent")]

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.digest = digest_of(self.text)
        super().save(*args, **kwargs)
