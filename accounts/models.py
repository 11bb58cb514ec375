import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a hash is kept; the token is shown once."""

    PREFIX = "gtu_"
    LAST_USED_PRECISION = timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("person"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("beginning"), max_length=12)
    digest = models.CharField(_("hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        # Made by the editor app before accounts had a room of its own; the table kept its name.
        db_table = "editor_apitoken"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:12], digest=cls.hash(raw))
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        """The active user a raw token belongs to, or None."""
        token = cls.find(raw)
        return token.user if token else None

    @classmethod
    def find(cls, raw: str) -> "ApiToken | None":
        """The token of an active user that `raw` is, with its user; its last use recorded."""
        token = (
            cls.objects.select_related("user")
            .filter(digest=cls.hash(raw), user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        # Recorded to the minute shown on the account page: a busy client costs no write.
        if token.last_used_at is None or now - token.last_used_at >= cls.LAST_USED_PRECISION:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token


class AuthAttempt(models.Model):
    """One counted try: a password or code that was wrong (or is being checked right now), or a
    sign-up form sent. accounts/throttle.py counts these rows; they are in the database, not a
    cache, so every web process sees the same counts. Rows older than the longest window are
    deleted as new ones come."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("password or code")  # at login, at a password change, for 2FA
        SIGNUP = "signup", _("sign-up")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # A keyed hash of the name as Django reads it, casefolded (throttle.account_key): the name
    # typed is not kept (people type their password there), and look-alikes share one key.
    account = models.CharField(_("account key"), max_length=64, blank=True)
    # The client address, an IPv6 one as its /64 network (throttle.address_key).
    address = models.CharField(_("address"), max_length=64)
    # The device cookie's id when one was honoured for this try; empty when none was.
    device = models.CharField(_("device"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")
        indexes = [
            models.Index(fields=["address", "kind", "created_at"]),
            models.Index(fields=["account", "device", "created_at"]),
            models.Index(fields=["device", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.address} at {self.created_at:%Y-%m-%d %H:%M:%S}"
