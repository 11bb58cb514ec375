"""What the studio says about a mask: which models honour one (studio/mask_field.html)."""

import json

from django import template

from editor.gateways import offered_models
from providers.routing import first_transport

register = template.Library()


@register.simple_tag
def mask_honoured_models() -> str:
    """The offered models whose first provider speaks the images API, which keeps to a mask,
    as a JSON list; the others (chat, Gemini) are only shown the mask as one more picture."""
    return json.dumps([name for name in offered_models() if first_transport(name) == "images"])
