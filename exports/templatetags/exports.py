"""The account page's export and import section, with what it needs from the database."""

from typing import Any

from django import template

from ..forms import ImportForm
from ..services import latest_export, latest_import

register = template.Library()


@register.inclusion_tag("exports/transfer.html", takes_context=True)
def gallery_transfer(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {
        "export": latest_export(request.user),
        "job": latest_import(request.user),
        "import_form": ImportForm(),
        "csrf_token": context.get("csrf_token"),
    }
