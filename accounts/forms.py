import re

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy

from . import two_factor


class OwnerSetupForm(UserCreationForm):
    """The first account, created on the first visit; it owns the installation."""


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. my laptop script")}),
    )


def _code_input() -> forms.TextInput:
    # "one-time-code" lets phones offer the code from the authenticator or a message.
    return forms.TextInput(
        attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "autofocus": True}
    )


class LoginCodeForm(forms.Form):
    """The second step of a login: a code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
        widget=_code_input(),
    )

    def clean_code(self) -> str:
        code = two_factor.normalize_code(self.cleaned_data["code"])
        if not two_factor.looks_like_code(code):
            raise forms.ValidationError(
                gettext_lazy("Enter the 6 digits from your app, or an 8-letter recovery code."),
                code="malformed",
            )
        return code


class SetupCodeForm(forms.Form):
    """Setting up: the person's password (someone at an unattended, logged-in browser must not
    be able to tie the account to their own phone), and the code the app shows once it has
    the secret, to prove it has it."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=16,
        widget=_code_input(),
    )

    def clean_code(self) -> str:
        code = two_factor.normalize_code(self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(
                gettext_lazy("Enter the 6 digits your app shows."), code="malformed"
            )
        return code


class ConfirmIdentityForm(forms.Form):
    """Before two-factor sign-in is turned off or the recovery codes replaced."""

    secret = forms.CharField(
        label=gettext_lazy("Your password, or a code from your app"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
