"""The owner's forms for providers: one provider (its key typed, never drawn back), a move up
or down, and a step of a model's order."""

import re
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .models import Provider

# A model name is what a gateway calls it: no spaces, no commas (the list's separators).
MODEL_NAME = re.compile(r"[^\s,]{1,100}")
SEPARATORS = re.compile(r"[,\n\r]+")
ENVIRONMENT = "environment"  # how a form names the environment's gateway among the providers


def model_names(text: str) -> list[str]:
    """Names typed one a line or separated by commas, each once, in the order typed."""
    seen: dict[str, None] = {}
    for name in SEPARATORS.split(text or ""):
        if name.strip():
            seen.setdefault(name.strip(), None)
    return list(seen)


def web_link_problem(url: str) -> str:
    """Why a base URL will not do ("" when it will): a plain http(s) link with no key in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return str(_("Give a link that starts with http:// or https://."))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return str(_("Give a link that starts with http:// or https://."))
    if parts.username or parts.password:
        return str(_("Put the key in the key field, not in the link."))
    if parts.query or parts.fragment:
        return str(
            _(
                "Give the link without anything after ? or #: for a Gemini key in the link, "
                "choose that below."
            )
        )
    return ""


class BaseUrlField(forms.CharField):
    """A gateway's base URL: http or https only, said plainly when it is not (URLField would
    also take ftp, and say only "Enter a valid URL")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault(
            "widget",
            forms.URLInput(
                attrs={"placeholder": "https://api.example.com/v1", "spellcheck": "false"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        url = str(super().clean(value))
        if url and (problem := web_link_problem(url)):
            raise forms.ValidationError(problem, code="scheme")
        return url.rstrip("/")


class ProviderForm(forms.ModelForm):
    """A provider. The key is typed and encrypted, never drawn back into the page: on a change,
    an empty key keeps the one stored. The models are typed, or ticked from what the provider
    listed when asked ("Ask the provider"); both together are the provider's models."""

    key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        max_length=500,
        # Never drawn back (render_value=False); "new-password" keeps a browser from filling
        # in the owner's own login password here.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
        ),
    )
    base_url = BaseUrlField(label=_("Base URL"))
    models = forms.CharField(
        label=_("Models"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("The model names it serves, one a line or separated by commas."),
    )
    # What the provider listed when asked, so the boxes can be drawn again after an error.
    listed = forms.CharField(required=False, widget=forms.HiddenInput)
    picked = forms.MultipleChoiceField(
        label=_("Models the provider lists"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Provider
        fields = ["name", "base_url", "transport", "gemini_key_in", "enabled"]
        labels = {"name": _("Name"), "transport": _("API"), "enabled": _("Use this provider")}
        help_texts = {
            "name": _("How the studio and the health page call it."),
            "transport": _(
                "How requests are sent. By model name: the images API for gpt-image, DALL·E "
                "and Seedream models, Gemini's own API on Google's host, chat completions "
                "for the rest."
            ),
            "gemini_key_in": _(
                "Only for Gemini's API: where the key goes. Some relays want it in the link."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = bool(self.instance.pk and self.instance.encrypted_key)
        self.fields["key"].required = not stored
        self.fields["key"].help_text = (
            _("A key is stored; type a new one to replace it.")
            if stored
            else _("Kept encrypted, and never shown again, not even here.")
        )
        if self.instance.pk and not self.is_bound:
            self.initial["models"] = "\n".join(self.instance.model_names)
        listed = model_names(self.data.get("listed", "")) if self.is_bound else []
        cast(forms.MultipleChoiceField, self.fields["picked"]).choices = [
            (name, name) for name in listed
        ]
        self.order_fields(["name", "base_url", "key", "transport", "gemini_key_in"])

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Give the provider a name."), code="required")
        same = Provider.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if same.exists():
            raise forms.ValidationError(
                _("There is already a provider named “%(name)s”."),
                code="unique",
                params={"name": name},
            )
        return name

    def clean_models(self) -> list[str]:
        names = model_names(self.cleaned_data.get("models", ""))
        wrong = [name for name in names if not MODEL_NAME.fullmatch(name)]
        if wrong:
            raise forms.ValidationError(
                _("A model name has no spaces and at most 100 characters: %(names)s"),
                code="model_name",
                params={"names": ", ".join(wrong[:3])},
            )
        return names

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        picked = cleaned.get("picked") or []
        typed = cleaned.get("models") or []
        cleaned["model_names"] = list(dict.fromkeys([*picked, *typed]))
        return cleaned

    def save(self, commit: bool = True) -> Provider:
        provider: Provider = super().save(commit=False)
        provider.model_names = self.cleaned_data["model_names"]
        if self.cleaned_data.get("key"):
            provider.set_key(self.cleaned_data["key"])
        if commit:
            provider.save()
        return provider


def with_listing(data: QueryDict, listed: list[str]) -> QueryDict:
    """The form's data with what the provider listed offered as boxes: the names already typed
    or ticked are ticked, and leave the box of typed names, so each model is in one place."""
    typed = model_names(data.get("models", ""))
    ticked = {*typed, *data.getlist("picked")}
    shown = data.copy()
    shown["listed"] = "\n".join(listed)
    shown.setlist("picked", [name for name in listed if name in ticked])
    shown["models"] = "\n".join(name for name in typed if name not in listed)
    return shown


class AskModelsForm(forms.Form):
    """What "Ask the provider" needs from the form being filled in: where, and the key typed
    (on a change, none: the stored one)."""

    base_url = BaseUrlField(required=True)
    key = forms.CharField(required=False, strip=True, max_length=500)


class RouteStepForm(forms.Form):
    """One provider of a model's order, added at its end, moved or removed; "environment" is
    the environment's gateway."""

    model = forms.CharField(max_length=100)
    provider = forms.ChoiceField()
    action = forms.ChoiceField(
        choices=[("add", "add"), ("up", "up"), ("down", "down"), ("remove", "remove")]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(ENVIRONMENT, ENVIRONMENT)]
        choices += [(str(pk), str(pk)) for pk in Provider.objects.values_list("pk", flat=True)]
        cast(forms.ChoiceField, self.fields["provider"]).choices = choices

    def chosen_provider(self) -> Provider | None:
        chosen = self.cleaned_data["provider"]
        return None if chosen == ENVIRONMENT else Provider.objects.get(pk=int(chosen))


class ModelForm(forms.Form):
    """A model named by an order form (to set its default order again)."""

    model = forms.CharField(max_length=100)
