import secrets
import uuid
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imaging import clean_original

from .events import status_changed
from .failures import FAILURE_MESSAGES, RETRY_WOULD_REPEAT, SWITCH_REASONS, failure_message


def _random_name(folder: str, filename: str) -> str:
    """Stored files get random names: the upload's own name is neither trusted nor revealed."""
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"{folder}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{suffix}"


def original_path(instance: "SourceImage", filename: str) -> str:
    return _random_name("originals", filename)


def result_path(instance: "ResultImage", filename: str) -> str:
    return _random_name("results", filename)


def thumbnail_path(instance: "SourceImage | ResultImage", filename: str) -> str:
    return _random_name("thumbs", filename)


def display_path(instance: "SourceImage | ResultImage", filename: str) -> str:
    return _random_name("displays", filename)


def mask_path(instance: "SourceImage", filename: str) -> str:
    return _random_name("masks", filename)


class EditGroup(models.Model):
    """Edits started together: one instruction on many pictures (a batch, an edit per
    picture), or the same pictures and instruction sent to several models (a comparison)."""

    class Kind(models.TextChoices):
        BATCH = "batch", _("Batch")
        COMPARISON = "comparison", _("Comparison")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="edit_groups",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    instruction = models.TextField(_("instruction"), max_length=4000)
    # A comparison's winner, picked by the person; its result stands for the comparison.
    winner = models.ForeignKey(
        "Edit", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("winner")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("group of edits")
        verbose_name_plural = _("groups of edits")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="group_owner_recent")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.instruction[:60]}"

    @property
    def is_active(self) -> bool:
        return self.edits.filter(status__in=Edit.ACTIVE).exists()


class Edit(models.Model):
    """One instruction applied to one or more pictures, and what the gateway made of it; with
    no pictures, a picture made from the instruction alone (a generation)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("Waiting in line")
        GENERATING = "generating", _("Generating")
        RETRYING = "retrying", _("Retrying")
        DOWNLOADING = "downloading", _("Saving the result")
        DONE = "done", _("Done")

    # Which status may follow which. Every change of status goes through transition(),
    # which applies this table atomically in the database.
    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED, Status.CANCELED},
        Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.QUEUED},
        Status.FAILED: {Status.QUEUED},
        Status.CANCELED: {Status.QUEUED},
        Status.SUCCEEDED: set(),
    }
    ACTIVE = (Status.QUEUED, Status.RUNNING)
    # What a card shows of an edit while it runs; it changes exactly when the card would.
    CARD_STATE = (
        "status",
        "stage",
        "progress",
        "gateway_attempt",
        "error_code",
        "share__token",
        "switches",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="edits", verbose_name=_("owner")
    )
    instruction = models.TextField(_("instruction"), max_length=4000)
    model = models.CharField(_("model"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    stage = models.CharField(max_length=12, choices=Stage, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    # A finer reason within the code (gateway.failures.Failure.reason), so that the sentence
    # for it is said in each reader's language, as the code's is.
    error_reason = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Times a worker ran it."))
    gateway_attempt = models.PositiveSmallIntegerField(
        default=0, help_text=_("Requests to the gateway in the current run.")
    )
    recoveries = models.PositiveSmallIntegerField(
        default=0, help_text=_("Times it was queued again after its worker stopped.")
    )
    result_links = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Result links of a finished generation whose download is still to do."),
    )
    parent = models.ForeignKey(
        "ResultImage",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("The result this edit started from, for “edit again”."),
    )
    raw_reply = models.TextField(blank=True, help_text=_("The gateway's reply, data URIs elided."))
    usage = models.JSONField(default=dict, blank=True)
    # What was asked beyond the instruction: gateway.options.RequestOptions.as_json(), only
    # what differs from the defaults ({} for the model's own), so a template reads it as is.
    options = models.JSONField(_("options"), default=dict, blank=True)
    # The result that stands for the edit (downloads, sharing, the gallery, edit again); the
    # person may pick another of several.
    chosen = models.PositiveSmallIntegerField(_("chosen result"), default=0)
    group = models.ForeignKey(
        EditGroup,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="edits",
        verbose_name=_("group"),
    )
    # The API token that started it, whose webhooks hear when it ends; None from the studio.
    api_token = models.ForeignKey(
        "accounts.ApiToken", models.SET_NULL, null=True, blank=True, related_name="edits"
    )
    # Which API and provider the edit went through (gateway.transports, providers), and each
    # move from one provider to the next before any output: [{"left", "to", "after"}].
    transport = models.CharField(_("API"), max_length=10, blank=True)
    provider = models.CharField(_("provider"), max_length=60, blank=True)
    switches = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    first_progress_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True, help_text=_("host:pid running it"))
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("edit")
        verbose_name_plural = _("edits")
        ordering = ["-created_at"]
        indexes = [
            # The gallery's keyset order in full, so that a page after the 20,000th tile is
            # a seek into this index, as the first page is.
            models.Index(fields=["owner", "-created_at", "-id"], name="edit_owner_recent"),
            models.Index(fields=["status", "queued_at"], name="edit_status_queued"),
        ]

    def __str__(self) -> str:
        return self.instruction[:60]

    @property
    def failure_message(self) -> str:
        """The failure in the reader's language (the worker stored it in its own)."""
        if self.error_code not in FAILURE_MESSAGES:  # e.g. imported from another Gaitu
            return self.error_message
        return str(failure_message(self.error_code, self.error_reason))

    @property
    def can_retry(self) -> bool:
        """Whether Retry is offered: not where it would only be refused the same way again."""
        if self.status == self.Status.CANCELED:
            return True
        return self.status == self.Status.FAILED and self.error_code not in RETRY_WOULD_REPEAT

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_generation(self) -> bool:
        """Made from the instruction alone, with no picture to start from."""
        return not self.sources.all()  # all(): prefetched sources are not asked again

    @property
    def masked_source(self) -> "SourceImage | None":
        """The original with a mask painted on it (the first), if the edit has one."""
        sources = list(self.sources.all())
        return sources[0] if sources and sources[0].mask else None

    @property
    def mask_loosely_kept(self) -> bool:
        """Whether the edit's mask goes to a model that is only shown it (chat, Gemini), which
        may not keep to it; the images API honours it."""
        return self.masked_source is not None and self.transport != "images"

    def record_switch(self, left: str, to: str, after: str) -> None:
        """The edit moved from provider `left` to `to` after a failure (a status, or a code)."""
        self.switches = [*self.switches, {"left": left, "to": to, "after": after}]
        self._update_running(switches=self.switches, provider=to)

    @property
    def switch_notes(self) -> list[dict[str, str]]:
        """Each move to another provider as a card says it: to whom, and after what (an HTTP
        status as it is, "503"; else the failure in the reader's words)."""
        notes = []
        for switch in self.switches or []:
            after = str(switch.get("after", ""))
            words = after if after.isdigit() else str(SWITCH_REASONS.get(after, after))
            notes.append({"to": str(switch.get("to", "")), "after": words})
        return notes

    def record_provider(self, provider: str, transport: str) -> None:
        self._update_running(provider=provider, transport=transport)

    @property
    def chosen_result(self) -> "ResultImage | None":
        """The result that stands for the edit: the one picked, else the first."""
        results = list(self.results.all())
        for result in results:
            if result.position == self.chosen:
                return result
        return results[0] if results else None

    def transition(self, to: Status, **fields: object) -> bool:
        """Move to status `to` if the current status allows it; False if another actor won.

        The check and the write are one UPDATE, so a worker finishing and a user cancelling
        at the same moment cannot both succeed.
        """
        allowed_from = [s for s, targets in self.TRANSITIONS.items() if to in targets]
        changed = Edit.objects.filter(pk=self.pk, status__in=allowed_from).update(
            status=to, **fields
        )
        if changed:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
            status_changed(self, to)
        return bool(changed)

    def start(self, worker: str = "") -> bool:
        now = timezone.now()
        changed = self.transition(
            self.Status.RUNNING,
            worker=worker,
            stage=self.Stage.QUEUED,
            attempts=models.F("attempts") + 1,
            gateway_attempt=0,
            started_at=now,
            heartbeat_at=now,
        )
        if changed:
            self.refresh_from_db(fields=["attempts"])
        return changed

    def fail(self, code: str, detail: str = "", reason: str = "") -> bool:
        """Stop with a failure code (editor.failures) and the gateway's or Pillow's own words."""
        return self.transition(
            self.Status.FAILED,
            error_code=code,
            error_reason=reason,
            error_message=str(failure_message(code, reason)),
            error_detail=detail,
            finished_at=timezone.now(),
        )

    def cancel(self) -> bool:
        """Stop a queued or running edit; a running one is stopped by its worker's watch."""
        return self.transition(self.Status.CANCELED, finished_at=timezone.now())

    def succeed(self) -> bool:
        return self.transition(
            self.Status.SUCCEEDED,
            stage=self.Stage.DONE,
            progress=100,
            finished_at=timezone.now(),
            result_links=[],
        )

    def requeue(self) -> bool:
        """Run a failed or canceled edit again with the same originals."""
        return self.transition(
            self.Status.QUEUED,
            stage=self.Stage.QUEUED,
            queued_at=timezone.now(),
            progress=None,
            error_code="",
            error_reason="",
            error_message="",
            error_detail="",
            started_at=None,
            first_progress_at=None,
            finished_at=None,
            switches=[],
        )

    def report_retry(self, attempt: int) -> None:
        self._update_running(stage=self.Stage.RETRYING, gateway_attempt=attempt)

    def keep_result_links(self, links: list[str]) -> None:
        """Remember what a paid generation made, so a failed download never repeats it."""
        self._update_running(result_links=links)

    def _update_running(self, **fields: object) -> None:
        fields["heartbeat_at"] = timezone.now()
        Edit.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def report_progress(self, stage: str, progress: int | None) -> None:
        """Record what the gateway says while running; the percent never goes backwards."""
        fields: dict[str, object] = {}
        if stage != self.stage:
            fields["stage"] = stage
        if progress is not None and (self.progress is None or progress > self.progress):
            fields["progress"] = progress
        if self.first_progress_at is None and (progress or stage != self.Stage.QUEUED):
            fields["first_progress_at"] = timezone.now()
        if fields:  # nothing new, no write: every edit's writes share one database lock
            self._update_running(**fields)


class StoredImage(models.Model):
    """What originals and results share: a picture file, its renditions and its size."""

    position = models.PositiveSmallIntegerField(default=0)
    thumbnail = models.FileField(upload_to=thumbnail_path, blank=True)
    # A JPEG (a WebP if it has transparency) of at most DISPLAY_SIDE px for the before/after
    # on a card and the detail page, made by the worker; an edit from before it existed has
    # none, and shows the full picture.
    display = models.FileField(upload_to=display_path, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=40)
    # Kept as the files are written, so a person's storage is one sum, not a walk of the disk.
    size = models.PositiveBigIntegerField(
        default=0, help_text=_("Bytes stored: the picture, its thumbnail and its display copy.")
    )

    class Meta:
        abstract = True
        ordering = ["position"]

    def store(self, field: str, filename: str, content: File) -> None:
        """Write `content` as this picture's `file`, `thumbnail` or `display` (not saving the
        row), and count its bytes in `size`.

        A write that fails, as on a full disk, leaves nothing of itself: the storage would
        keep the part it wrote, with no row to name it.
        """
        stored: FieldFile = getattr(self, field)
        name = stored.field.generate_filename(self, filename)
        try:
            # The name is random, so the storage keeps it and the one deleted below is ours.
            name = stored.storage.save(name, content, max_length=stored.field.max_length)
        except OSError:
            stored.storage.delete(name)
            raise
        setattr(self, field, name)
        # The bytes just written, counted here: asking the storage would cost a bucket a
        # request per picture (and a store that lists a new object a moment late, an error).
        self.size += content.size

    def keep_display(self, name: str, size: int) -> None:
        """Make the file `name` (`size` bytes, written by the worker after the row) this
        picture's display rendition, counted in its size. Should the picture have one already,
        or be gone (its edit deleted meanwhile), the file is deleted instead."""
        kept = (
            type(self)
            ._default_manager.filter(pk=self.pk, display="")
            .update(display=name, size=models.F("size") + size)
        )
        if not kept:
            self.display.storage.delete(name)
            return
        self.display.name, self.size = name, self.size + size


class SourceImage(StoredImage):
    edit = models.ForeignKey(Edit, models.CASCADE, related_name="sources")
    file = models.FileField(upload_to=original_path)
    filename = models.CharField(
        max_length=255, blank=True, help_text=_("The uploaded file's name.")
    )
    metadata_removed = models.BooleanField(
        default=False, help_text=_("The stored file was rewritten without its metadata.")
    )
    # The area to change, painted on this original at its own resolution: a PNG of its size,
    # transparent where it should change (imaging.masks). Only an edit's first original has one.
    mask = models.FileField(upload_to=mask_path, blank=True)

    class Meta(StoredImage.Meta):
        verbose_name = _("original")
        verbose_name_plural = _("originals")
        constraints = [
            models.UniqueConstraint(fields=["edit", "position"], name="unique_source_position")
        ]

    def __str__(self) -> str:
        return f"original {self.position + 1} of {self.edit_id}"

    # Uploads are stored as they arrive, so submitting stays as cheap as saving a file. The
    # worker then stores each original without EXIF/GPS and other metadata (clean_original),
    # once, in two steps: write_cleaned() while the gateway works, keep_cleaned() after. Until
    # then views serve cleaned_bytes(), the very bytes stored afterwards, so no metadata is
    # ever served.

    def cleaned_bytes(self) -> bytes:
        """The original without its metadata: what is stored once it has been cleaned.

        Raises InvalidImage when the file is not whole.
        """
        with self.file.open("rb") as stored:
            return (
                stored.read()
                if self.metadata_removed
                else clean_original(stored, self.content_type)
            )

    def write_cleaned(self) -> str:
        """Write the cleaned original as a file of its own; its name. No database work."""
        return self.file.storage.save(
            original_path(self, self.file.name or ""), ContentFile(self.cleaned_bytes())
        )

    def keep_cleaned(self, name: str) -> None:
        """Make the file write_cleaned() wrote the original, and delete the upload."""
        storage, uploaded = self.file.storage, self.file.name or ""
        # Its size counts the thumbnail and the display copy too, written by then.
        renditions = (self.thumbnail, self.display)
        size = storage.size(name) + sum(made.size for made in renditions if made)
        # Conditional: should two workers ever clean the same original, one file is kept.
        kept = SourceImage.objects.filter(pk=self.pk, metadata_removed=False).update(
            file=name, metadata_removed=True, size=size
        )
        storage.delete(uploaded if kept else name)
        self.refresh_from_db(fields=["file", "metadata_removed", "size"])


class ResultImage(StoredImage):
    edit = models.ForeignKey(Edit, models.CASCADE, related_name="results")
    file = models.FileField(upload_to=result_path)
    source_url = models.TextField(blank=True, help_text=_("Where the gateway put it; provenance."))

    class Meta(StoredImage.Meta):
        verbose_name = _("result")
        verbose_name_plural = _("results")
        constraints = [
            models.UniqueConstraint(fields=["edit", "position"], name="unique_result_position")
        ]

    def __str__(self) -> str:
        return f"result {self.position + 1} of {self.edit_id}"


class Share(models.Model):
    """A public link to one edit's result. Revoking deletes it, so its token answers 404."""

    edit = models.OneToOneField(Edit, models.CASCADE, related_name="share", verbose_name=_("edit"))
    # 32 bytes from the OS's CSPRNG: 256 bits, far past guessing.
    token = models.CharField(max_length=64, unique=True, editable=False)
    show_original = models.BooleanField(_("show the original"), default=True)
    show_instruction = models.BooleanField(_("show the instruction"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")

    def __str__(self) -> str:
        return f"share of {self.edit_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.token:
            self.token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)
