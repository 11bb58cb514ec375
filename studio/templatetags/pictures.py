"""The srcset of a stored picture: its thumbnail, its display rendition and the picture itself."""

from django import template
from django.urls import reverse

from editor.models import ResultImage, Share, SourceImage
from imaging.shape import DISPLAY_SIDE, THUMBNAIL_SIDE

register = template.Library()


@register.simple_tag
def picture_srcset(
    picture: SourceImage | ResultImage, kind: str, share: Share | None = None
) -> str:
    """Each size the browser may choose from, with its real width.

    A rendition is the picture scaled to fit its side, never enlarged, so a small picture
    offers fewer sizes: of two as wide, the display rendition is kept (sharper than the
    thumbnail, lighter than the picture itself).
    """
    longest = max(picture.width, picture.height)
    if not longest:  # not known: the browser takes the src
        return ""
    candidates: list[tuple[str, int]] = []
    for variant, side in (("thumb", THUMBNAIL_SIDE), ("display", DISPLAY_SIDE), ("full", longest)):
        width = picture.width if longest <= side else round(picture.width * side / longest)
        if candidates and width <= candidates[-1][1]:
            if variant == "display":
                candidates.pop()
            else:
                continue
        if share is None:
            url = reverse("media", args=[picture.edit_id, kind, picture.position, variant])
        else:
            url = reverse("shared_media", args=[share.token, kind, picture.position, variant])
        candidates.append((url, width))
    return ", ".join(f"{url} {width}w" for url, width in candidates)
