from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .imaging import InvalidImage, inspect_upload


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """One or more pictures; each is checked by Pillow, not by its name."""

    widget = MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"})

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        limit = settings.GAITU_MAX_INPUTS
        if len(files) > limit:
            raise forms.ValidationError(
                ngettext(
                    "At most %(limit)d picture can be edited at once.",
                    "At most %(limit)d pictures can be edited at once.",
                    limit,
                )
                % {"limit": limit},
                code="too_many",
            )
        checked = []
        for upload in files:
            try:
                info = inspect_upload(
                    upload,
                    max_bytes=settings.GAITU_UPLOAD_MAX_MB * 2**20,
                    max_pixels=settings.GAITU_MAX_PIXELS,
                )
            except InvalidImage as exc:
                raise forms.ValidationError(
                    "%(name)s: %(problem)s",
                    code="invalid_image",
                    params={"name": upload.name, "problem": exc},
                ) from None
            checked.append((upload, info))
        return checked


class EditForm(forms.Form):
    images = MultipleImageField(
        label=_("Pictures"),
        error_messages={"required": _("Choose at least one picture to edit.")},
    )
    instruction = forms.CharField(
        label=_("What should change?"),
        max_length=4000,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _("e.g. make the background a blue sky with white clouds"),
            }
        ),
        error_messages={"required": _("Write what should change in the picture.")},
    )
    model = forms.ChoiceField(label=_("Model"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(m, m) for m in settings.GAITU_MODELS]
        self.fields["model"].initial = settings.GAITU_MODELS[0]

    def clean_model(self) -> str:
        return self.cleaned_data.get("model") or settings.GAITU_MODELS[0]
