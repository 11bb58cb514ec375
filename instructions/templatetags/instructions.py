"""{% instruction_picker %}: the chips under the studio's instruction box."""

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.translation import get_language

from ..services import picker_choices

register = template.Library()


def picker_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "choices": picker_choices(user, get_language()),
        "request": request,
        "user": user,
    }


@register.inclusion_tag("instructions/picker.html", takes_context=True)
def instruction_picker(context: template.Context) -> dict[str, Any]:
    return picker_context(context["request"])
