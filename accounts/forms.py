from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy


class OwnerSetupForm(UserCreationForm):
    """The first account, created on the first visit; it owns the installation."""


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. my laptop script")}),
    )
