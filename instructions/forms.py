from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ReadyInstruction


class ReadyInstructionForm(forms.ModelForm):
    """A ready-made instruction in both languages. Chinese is optional, but whole: a Chinese
    label with no Chinese text (or the reverse) would show readers half of each."""

    class Meta:
        model = ReadyInstruction
        fields = ["label_en", "text_en", "label_zh", "text_zh"]
        widgets = {
            "text_en": forms.Textarea(attrs={"rows": 2}),
            "text_zh": forms.Textarea(attrs={"rows": 2, "lang": "zh-Hans"}),
            "label_zh": forms.TextInput(attrs={"lang": "zh-Hans"}),
        }
        help_texts = {
            "label_en": _("A few words on the chip."),
            "text_en": _("What the chip writes in the instruction box."),
            "label_zh": _("Leave both Chinese fields empty to show the English to everyone."),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        label_zh = (cleaned.get("label_zh") or "").strip()
        text_zh = (cleaned.get("text_zh") or "").strip()
        if label_zh and not text_zh:
            self.add_error("text_zh", _("Give the Chinese instruction too, or no Chinese label."))
        elif text_zh and not label_zh:
            self.add_error("label_zh", _("Give the Chinese label too, or no Chinese instruction."))
        return cleaned


class StarForm(forms.Form):
    """Star or unstar: the state wanted, not a toggle, so sending it twice does no harm."""

    starred = forms.BooleanField(required=False)
