from typing import Any, cast
from urllib.parse import unquote, urlsplit
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import ApiToken
from gateway.fetch import FetchError, fetch_image
from gateway.options import MAX_RESULTS, MAX_SIDE, MIN_SIDE, RATIOS, RequestOptions
from imaging import ImageInfo, InvalidImage, inspect_upload
from imaging.masks import inspect_mask

from . import services
from .failures import link_problem, picture_problem
from .gateways import offered_models
from .limits import most_pictures_at_once
from .models import Edit, EditGroup, ResultImage

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
        # Each mode's own count is the form's to check (EditForm.clean): a batch takes more.
        if len(files) > most_pictures_at_once():
            raise too_many_pictures(most_pictures_at_once())
        return [checked_picture(upload) for upload in files]


def too_many_pictures(limit: int) -> forms.ValidationError:
    return forms.ValidationError(
        ngettext(
            "At most %(limit)d picture can be edited at once.",
            "At most %(limit)d pictures can be edited at once.",
            limit,
        )
        % {"limit": limit},
        code="too_many",
    )


def checked_picture(upload: UploadedFile) -> tuple[UploadedFile, ImageInfo]:
    """The upload with what Pillow found, or the ValidationError that says what is wrong."""
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
    return upload, info


def picture_from_link(url: str) -> tuple[UploadedFile, ImageInfo]:
    """The picture a pasted link points to, fetched as the gateway's results are (never from a
    private address, the same size limits) and then checked as an upload is."""
    try:
        fetched = fetch_image(
            url,
            allow_hosts=settings.GAITU_FETCH_ALLOW_HOSTS,
            max_bytes=settings.GAITU_UPLOAD_MAX_MB * 2**20,
            max_pixels=settings.GAITU_MAX_PIXELS,
            deadline=30.0,
        )
    except FetchError as exc:
        raise forms.ValidationError(link_problem(exc), code=exc.code) from None
    name = unquote(urlsplit(url).path.rpartition("/")[2]) or "link"
    upload = SimpleUploadedFile(name, fetched.data, fetched.content_type)
    return checked_picture(upload)


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


MODE_SINGLE, MODE_COMPARE, MODE_BATCH = "single", "compare", "batch"
CUSTOM_SIZE = "custom"


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
    # A picture on the web, instead of (or beside) a file: fetched by the server.
    image_url = forms.URLField(
        label=_("Or a link to a picture"),
        required=False,
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…", "inputmode": "url"}),
    )
    # The area to change in the first picture, painted in the studio or the lightbox at the
    # picture's own size (static/gaitu/mask.js): a PNG, transparent where it should change.
    mask = forms.FileField(label=_("Mask"), required=False, widget=forms.FileInput)
    mode = forms.ChoiceField(
        label=_("How"),
        required=False,
        choices=[
            (MODE_SINGLE, _("One edit")),
            (MODE_COMPARE, _("Compare models")),
            (MODE_BATCH, _("Batch: each picture on its own")),
        ],
        initial=MODE_SINGLE,
    )
    # A comparison's models, 2 to GAITU_COMPARE_MAX of them.
    models = forms.MultipleChoiceField(
        label=_("Models to compare"), required=False, widget=forms.CheckboxSelectMultiple
    )
    size = forms.ChoiceField(
        label=_("Size"),
        required=False,
        choices=[
            ("", _("As the model likes")),
            *[(ratio, ratio) for ratio in RATIOS],
            (CUSTOM_SIZE, _("Custom")),
        ],
    )
    width = forms.IntegerField(
        label=_("Width"), required=False, min_value=MIN_SIDE, max_value=MAX_SIDE
    )
    height = forms.IntegerField(
        label=_("Height"), required=False, min_value=MIN_SIDE, max_value=MAX_SIDE
    )
    n = forms.IntegerField(
        label=_("Number of results"),
        required=False,
        min_value=1,
        max_value=MAX_RESULTS,
        initial=1,
        widget=forms.Select(choices=[(count, str(count)) for count in range(1, MAX_RESULTS + 1)]),
    )
    quality = forms.ChoiceField(
        label=_("Quality"),
        required=False,
        choices=[
            ("", _("As the model likes")),
            ("low", _("Low")),
            ("medium", _("Medium")),
            ("high", _("High")),
        ],
    )

    def __init__(self, *args: Any, owner: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        # The form's own copies of the declared fields; the stubs type self.fields as Field.
        offered = [(m, m) for m in offered_models()]
        model_field = cast(forms.ChoiceField, self.fields["model"])
        model_field.choices = offered
        model_field.initial = settings.GAITU_MODELS[0]
        cast(forms.MultipleChoiceField, self.fields["models"]).choices = offered
        if self.initial.get("parent"):
            self.fields["instruction"].widget.attrs["autofocus"] = True

    def clean_model(self) -> str:
        return self.cleaned_data.get("model") or settings.GAITU_MODELS[0]

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or MODE_SINGLE

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
        images = cleaned.get("images") or []
        # The link's picture is fetched only when all else is in order: no request goes out
        # for a form that is refused anyway.
        if cleaned.get("image_url") and not self.errors:
            try:
                images = cleaned["images"] = [*images, picture_from_link(cleaned["image_url"])]
            except forms.ValidationError as problem:
                self.add_error("image_url", problem)
        mode = cleaned.get("mode", MODE_SINGLE)
        if mode == MODE_BATCH:
            self._check_batch(images)
        else:
            count = len(images) + (1 if cleaned.get("parent") else 0)
            if count > settings.GAITU_MAX_INPUTS:
                self.add_error("images", too_many_pictures(settings.GAITU_MAX_INPUTS))
        if mode == MODE_COMPARE:
            self._check_comparison()
        if cleaned.get("mask"):
            self._check_mask(images, mode)
        cleaned["options"] = self._options()
        return cleaned

    def _check_mask(self, images: list, mode: str) -> None:
        """A mask belongs to the first picture: a PNG of its size that marks an area."""
        cleaned = self.cleaned_data
        parent = cleaned.get("parent")
        problem: str
        if mode == MODE_BATCH:
            problem = str(_("A mask is painted on one picture; a batch edits many. Send it alone."))
        elif parent is None and not images:
            problem = str(_("A mask needs the picture it was painted on."))
        else:
            info = parent if parent else images[0][1]
            first = (info.width, info.height)
            try:
                inspect_mask(cleaned["mask"], first)
                return
            except InvalidImage as exc:
                problem = picture_problem(exc)
        self.add_error("mask", forms.ValidationError(problem, code="invalid_mask"))

    def _check_batch(self, images: list) -> None:
        if self.cleaned_data.get("parent"):
            self.add_error(
                "images",
                forms.ValidationError(
                    _("A batch starts from new pictures, not from a result."), code="batch_parent"
                ),
            )
        elif not images and "images" not in self.errors and "image_url" not in self.errors:
            self.add_error(
                "images",
                forms.ValidationError(
                    _("Choose the pictures the batch should edit."), code="required"
                ),
            )
        elif len(images) > settings.GAITU_BATCH_MAX:
            self.add_error("images", too_many_pictures(settings.GAITU_BATCH_MAX))

    def _check_comparison(self) -> None:
        chosen = list(dict.fromkeys(self.cleaned_data.get("models") or []))
        if not 2 <= len(chosen) <= settings.GAITU_COMPARE_MAX:
            self.add_error(
                "models",
                forms.ValidationError(
                    _("Choose from 2 to %(most)d models to compare.")
                    % {"most": settings.GAITU_COMPARE_MAX},
                    code="compare_count",
                ),
            )
        self.cleaned_data["models"] = chosen

    def _options(self) -> RequestOptions:
        cleaned = self.cleaned_data
        size = cleaned.get("size") or ""
        if size == CUSTOM_SIZE:
            width, height = cleaned.get("width"), cleaned.get("height")
            if not (width and height):
                if "width" not in self.errors and "height" not in self.errors:
                    self.add_error(
                        "width",
                        forms.ValidationError(
                            _("Give the custom size's width and height, in pixels."),
                            code="custom_size",
                        ),
                    )
                return RequestOptions()
            size = f"{width}x{height}"
        n, quality = cleaned.get("n") or 1, cleaned.get("quality") or ""
        return RequestOptions(size=size, n=n, quality=quality)

    @property
    def is_generation(self) -> bool:
        """Whether the valid form makes a picture from the words alone: nothing to start from."""
        return not self.cleaned_data.get("images") and not self.cleaned_data.get("parent")

    def submit(self) -> Edit | EditGroup:
        """Start what the valid form describes, as its owner (editor.services): one edit, or
        a group of them for a comparison or a batch."""
        if self.owner is None:
            raise ValueError("an EditForm submits only for its owner")
        cleaned = self.cleaned_data
        common: dict[str, Any] = {
            "instruction": cleaned["instruction"],
            "uploads": cleaned["images"],
            "options": cleaned["options"],
            "api_token": self.api_token,
        }
        if cleaned["mode"] != MODE_BATCH:
            common["mask"] = cleaned.get("mask")
        if cleaned["mode"] == MODE_BATCH:
            return services.submit_batch(self.owner, model=cleaned["model"], **common)
        if cleaned["mode"] == MODE_COMPARE:
            return services.submit_comparison(
                self.owner, models=cleaned["models"], parent=cleaned["parent"], **common
            )
        return self.submit_one()

    def submit_one(self) -> Edit:
        """Start the one edit the valid form describes (its mode is MODE_SINGLE)."""
        if self.owner is None:
            raise ValueError("an EditForm submits only for its owner")
        cleaned = self.cleaned_data
        return services.submit(
            self.owner,
            instruction=cleaned["instruction"],
            model=cleaned["model"],
            uploads=cleaned["images"],
            parent=cleaned["parent"],
            options=cleaned["options"],
            api_token=self.api_token,
            mask=cleaned.get("mask"),
        )

    # The API token a submission came through (api/edits.py sets it), for its webhooks.
    api_token: ApiToken | None = None
