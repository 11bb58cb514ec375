"""Webhooks: addresses an API token registered, and the deliveries of what happened to them."""

import secrets
import uuid

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken


class WebhookQuerySet(models.QuerySet["Webhook"]):
    def with_last_delivery(self) -> "WebhookQuerySet":
        """Each with its newest delivery's status, last attempt, HTTP status and error, as
        last_status, last_attempt_at, last_status_code and last_error (None where it has no
        delivery yet)."""
        newest = Delivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at")
        return self.annotate(
            last_status=Subquery(newest.values("status")[:1]),
            last_attempt_at=Subquery(newest.values("last_attempt_at")[:1]),
            last_status_code=Subquery(newest.values("last_status_code")[:1]),
            last_error=Subquery(newest.values("last_error")[:1]),
        )


class Webhook(models.Model):
    """An address that hears, by a signed POST, when an edit or a group the token started ends.

    The secret is kept as it is, not hashed: the server signs every delivery with it. It is
    shown once, when the webhook is made, and never again (not in the API, the account page,
    the admin or the logs)."""

    # Webhooks a token may have: enough for a script or two and a test endpoint, few enough
    # that one edit ending cannot fan out into a flood of requests.
    MAX_PER_TOKEN = 10
    SECRET_PREFIX = "whsec_"  # noqa: S105 (what every secret starts with, not one)

    token = models.ForeignKey(
        ApiToken, models.CASCADE, related_name="webhooks", verbose_name=_("API token")
    )
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(max_length=64, editable=False)
    # Where the API was reached when the webhook was made: the links in its payloads start
    # here, as the API's own answers do (a worker has no request to build them from).
    origin = models.CharField(max_length=200, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    @classmethod
    def new_secret(cls) -> str:
        return cls.SECRET_PREFIX + secrets.token_urlsafe(32)


class Delivery(models.Model):
    """One event for one webhook, and how sending it went: tried until an answer in 2xx, with
    growing pauses (webhooks/delivery.py), then given up."""

    class Event(models.TextChoices):
        EDIT_ENDED = "edit.ended", _("Edit ended")
        BATCH_ENDED = "batch.ended", _("Batch ended")
        COMPARISON_ENDED = "comparison.ended", _("Comparison ended")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(
        Webhook, models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.CharField(_("event"), max_length=20, choices=Event)
    # What the event is about, once: "group:<id>" for a group's end, "edit:<id>:<when it
    # ended>" for an edit's (a retried edit ends again, later). Two edits of a group ending at
    # the same moment both see the group ended; the unique constraint lets one delivery in.
    subject = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    # Short and technical (English, like the logs): "HTTP 500", "address 10.0.0.2 is private".
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "subject"], name="delivery_once_per_subject")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook_id} ({self.status})"
