from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import secrets


class Provider(models.Model):
    """A gateway the owner added: where it is, its key (encrypted, never shown again), the API
    it speaks and the models it serves."""

    class Transport(models.TextChoices):
        AUTO = "auto", _("By model name")
        CHAT = "chat", _("Chat completions")
        IMAGES = "images", _("Images API")
        GEMINI = "gemini", _("Gemini API")

    class GeminiKeyIn(models.TextChoices):
        HEADER = "header", _("x-goog-api-key header")
        QUERY = "query", _("?key= in the link")

    name = models.CharField(_("name"), max_length=60, unique=True)
    base_url = models.URLField(_("base URL"), max_length=500)
    encrypted_key = models.TextField(editable=False)
    transport = models.CharField(_("API"), max_length=10, choices=Transport, default=Transport.AUTO)
    gemini_key_in = models.CharField(
        _("Gemini key in"), max_length=10, choices=GeminiKeyIn, default=GeminiKeyIn.HEADER
    )
    model_names = models.JSONField(_("models"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["position", "created_at"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name

    def set_key(self, plain: str) -> None:
        self.encrypted_key = secrets.encrypt(plain)

    def key(self) -> str:
        """The key in plain text, for a request only: raises secrets.KeyUnreadable."""
        return secrets.decrypt(self.encrypted_key)

    def serves(self, model: str) -> bool:
        return model in self.model_names


class ModelRoute(models.Model):
    """One step of a model's ordered list of providers; no provider is the environment's own
    gateway (GAITU_API_BASE / GAITU_API_KEY, or the built-in demo)."""

    model = models.CharField(_("model"), max_length=100)
    provider = models.ForeignKey(
        Provider, models.CASCADE, null=True, blank=True, related_name="routes"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["model", "position"]
        constraints = [
            models.UniqueConstraint(fields=["model", "provider"], name="unique_model_provider"),
            models.UniqueConstraint(
                fields=["model"],
                condition=models.Q(provider__isnull=True),
                name="unique_model_environment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} #{self.position + 1}"


class ProviderCall(models.Model):
    """One request to a provider, for its health: how long, and how it failed if it did.
    No provider: the environment's gateway. Kept a day (providers.health)."""

    provider = models.ForeignKey(
        Provider, models.CASCADE, null=True, blank=True, related_name="calls"
    )
    model = models.CharField(max_length=100)
    at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField()
    failure_code = models.CharField(max_length=40, blank=True)
    failure_detail = models.CharField(max_length=300, blank=True)
    is_test = models.BooleanField(default=False)

    class Meta:
        # The health page reads the last day, and the sweep forgets what is older.
        indexes = [models.Index(fields=["at"], name="provider_call_at")]

    def __str__(self) -> str:
        return f"{self.model} at {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def ok(self) -> bool:
        return not self.failure_code
