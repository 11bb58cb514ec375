"""How every form on the site is drawn: the project's own templates (templates/forms/), so that
a label has no colon, help text is a quiet line under its field, and errors sit next to it.
And the one form several apps' ordered lists share: one place up or down."""

from django import forms
from django.forms.renderers import TemplatesSetting


class GaituFormRenderer(TemplatesSetting):
    """Looks the templates up in the project's TEMPLATES, so templates/forms/ is found; the
    widgets' own templates come from the django.forms app (in INSTALLED_APPS)."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"


class MoveForm(forms.Form):
    """One place up or down in an owner's ordered list (ready-made instructions, providers)."""

    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
