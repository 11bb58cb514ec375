from django import forms
from django.utils.translation import gettext_lazy as _


class ImportForm(forms.Form):
    archive = forms.FileField(
        label=_("Gallery archive (ZIP)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
