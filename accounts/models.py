import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a hash is kept; the token is shown once."""

    PREFIX = "gtu_"
    LAST_USED_PRECISION = timedelta(minutes=1)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Made by the editor app before accounts had a room of its own; the table kept its name.
        db_table = "editor_apitoken"

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
        return token.user
