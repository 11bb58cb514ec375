from typing import Any, cast
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from imaging import ImageInfo, InvalidImage, inspect_upload

from . import services
from .failures import picture_problem
from .gateways import offered_models
from .models import Edit, ResultImage

# How much of an upload's own name is kept (SourceImage.filename): its extension and as much
# of the rest as fits. The name is only ever shown as text; stored files get names of their own.
UPLOAD_NAME_MAX_CHARS = 200


def kept_upload_name(name: str) -> str:
    """The upload's name, cut to UPLOAD_NAME_MAX_CHARS with its extension kept.

    Django's parser has already taken away folders ("../", "C:\\"), control and format
    characters (NUL, the right-to-left override), and read bytes that are not UTF-8 as U+FFFD.
    """
    name = name.strip() or name  # an UploadedFile's name may not be empty
    if len(name) <= UPLOAD_NAME_MAX_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:  # no extension worth keeping
        return name[:UPLOAD_NAME_MAX_CHARS]
    return stem[: UPLOAD_NAME_MAX_CHARS - len(extension) - 2] + "…." + extension


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """One or more pictures; each is checked by Pillow, not by its name."""

    # "image/*" rather than the four types: with it a phone offers its camera and photo library,
    # not a file browser. What is not JPEG, PNG, WebP or GIF is refused in the page (upload.js)
    # and here.
    widget = MultipleImageInput(attrs={"accept": "image/*", "class": "file-input"})

    def clean(self, data: Any, initial: Any = None) -> list[tuple[UploadedFile, ImageInfo]]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
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
        checked: list[tuple[UploadedFile, ImageInfo]] = []
        for upload in files:
            upload.name = kept_upload_name(upload.name or "")
            try:
                info = inspect_upload(
                    upload,
                    max_bytes=settings.GAITU_UPLOAD_MAX_MB * 2**20,
                    max_pixels=settings.GAITU_MAX_PIXELS,
                )
            except InvalidImage as exc:
                # Over the size limit is the request's size (413 in the API), not its content.
                code = "file_too_large" if exc.problem == "too_large" else "invalid_image"
                raise forms.ValidationError(
                    "%(name)s: %(problem)s",
                    code=code,
                    params={"name": upload.name, "problem": picture_problem(exc)},
                ) from None
            checked.append((upload, info))
        return checked


def result_to_edit_again(value: str, owner: User | None) -> ResultImage:
    """The owner's result named "<edit id>:<position>", whose picture can be read again."""
    edit_id, _sep, position = value.partition(":")
    try:
        result = ResultImage.objects.select_related("edit").get(
            edit_id=UUID(edit_id), position=int(position or 0), edit__owner=owner
        )
    except (ValueError, ResultImage.DoesNotExist):
        raise forms.ValidationError(
            _("That result is no longer there."), code="invalid_parent"
        ) from None
    # Its file is copied as the new edit's first original (services.submit): say now if it
    # has gone from the disk, rather than fail while storing the edit.
    try:
        with result.file.storage.open(result.file.name or "", "rb"):
            pass
    except OSError:
        raise forms.ValidationError(
            _("The picture of that result is missing, so it can't be edited again."),
            code="missing_parent",
        ) from None
    return result


class EditForm(forms.Form):
    images = MultipleImageField(label=_("Pictures"), required=False)
    # "Edit this result again": the result (as "<edit id>:<position>") to start from.
    parent = forms.CharField(required=False, widget=forms.HiddenInput)
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

    def __init__(self, *args: Any, owner: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        # The form's own copy of the declared ChoiceField; the stubs type self.fields as Field.
        model_field = cast(forms.ChoiceField, self.fields["model"])
        model_field.choices = [(m, m) for m in offered_models()]
        model_field.initial = settings.GAITU_MODELS[0]
        if self.initial.get("parent"):
            self.fields["instruction"].widget.attrs["autofocus"] = True

    def clean_model(self) -> str:
        return self.cleaned_data.get("model") or settings.GAITU_MODELS[0]

    def clean_parent(self) -> ResultImage | None:
        value = self.cleaned_data.get("parent", "")
        return result_to_edit_again(value, self.owner) if value else None

    def initial_parent_problem(self) -> str:
        """Why the result an unbound form starts from can't be edited again; "" if it can.

        Said as soon as the studio opens from "Edit this result again", not only once the
        person has written an instruction and pressed Edit.
        """
        value = self.initial.get("parent")
        if self.is_bound or not value:
            return ""
        try:
            result_to_edit_again(value, self.owner)
        except forms.ValidationError as problem:
            return " ".join(problem.messages)
        return ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # With a parent that can't be used, what is wrong is the parent, not missing pictures.
        unusable = "images" in self.errors or "parent" in self.errors
        if not cleaned.get("images") and not cleaned.get("parent") and not unusable:
            self.add_error(
                "images",
                forms.ValidationError(_("Choose at least one picture to edit."), code="required"),
            )
        if cleaned.get("parent") and len(cleaned.get("images") or []) >= settings.GAITU_MAX_INPUTS:
            self.add_error(
                "images", forms.ValidationError(_("Too many pictures."), code="too_many")
            )
        return cleaned

    def submit(self) -> Edit:
        """Start the edit the valid form describes, as its owner (editor.services.submit)."""
        if self.owner is None:
            raise ValueError("an EditForm submits only for its owner")
        return services.submit(
            self.owner,
            instruction=self.cleaned_data["instruction"],
            model=self.cleaned_data["model"],
            uploads=self.cleaned_data["images"],
            parent=self.cleaned_data["parent"],
        )
