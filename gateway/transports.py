"""Which API a model is spoken to through, when nothing says otherwise.

The chat transport stays the default for any model not named here. The images API is the one
way many relays serve OpenAI's image models and ByteDance's Seedream (and the way a mask is
honoured); Gemini's own API is chosen for Google's own host. An owner's configuration (a
provider's transport, GAITU_MODEL_TRANSPORTS) always wins over these.
"""

from fnmatch import fnmatchcase
from urllib.parse import urlsplit

CHAT, IMAGES, GEMINI = "chat", "images", "gemini"
NAMES = (CHAT, IMAGES, GEMINI)

# Model name patterns (lower case, fnmatch) spoken to through the images API by default.
IMAGES_API_MODELS = ("gpt-image-*", "dall-e-*", "*seedream*", "*seededit*")
GEMINI_HOSTS = frozenset({"generativelanguage.googleapis.com"})


def default_transport(model: str, base_url: str = "") -> str:
    """The transport for `model` at a gateway at `base_url`, by their names alone."""
    if (urlsplit(base_url).hostname or "").lower() in GEMINI_HOSTS:
        return GEMINI
    name = model.strip().lower()
    if any(fnmatchcase(name, pattern) for pattern in IMAGES_API_MODELS):
        return IMAGES
    return CHAT


def transport_of(
    model: str, base_url: str, chosen: str = "auto", overrides: dict[str, str] | None = None
) -> str:
    """The transport a configuration names: a per-model override first, then the provider's
    own choice, then the default by name ("auto")."""
    named = (overrides or {}).get(model, "")
    if named in NAMES:
        return named
    if chosen in NAMES:
        return chosen
    return default_transport(model, base_url)
