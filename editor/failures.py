"""What each failure code means, in the reader's language.

The gateway and picture packages say what went wrong by a code (gateway.failures.CODES,
imaging.types.PROBLEMS); this is the one place that words them for people.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gateway.fetch import FetchError
from imaging import InvalidImage

FAILURE_MESSAGES: dict[str, Promise] = {
    "key_rejected": _("The gateway rejected the API key."),
    "quota_exhausted": _("The API key has run out of quota or credit on the gateway."),
    "rate_limited": _("The gateway is busy or limiting requests. Try again in a moment."),
    "model_unavailable": _("This model is not available on the gateway right now."),
    "gateway_error": _("The gateway answered with an error."),
    "bad_request": _("The gateway did not accept the request."),
    "timeout": _("The gateway took too long to answer."),
    "connection_failed": _("Could not connect to the gateway."),
    "upstream_error": _("The model provider reported an error."),
    "content_filtered": _("The request or its result was blocked by content moderation."),
    "refused": _("The model answered without an image."),
    "picture_lost": _(
        "The gateway lost the picture: the model made it, but the reply came back without it. "
        "Retry may help; if it keeps happening, tell whoever runs the gateway."
    ),
    "download_failed": _("The result image could not be downloaded."),
    "link_blocked": _("The result link points to an address Gaitu does not download from."),
    "unreadable_picture": _(
        "The picture could not be read: it seems damaged inside. Try another copy of it."
    ),
    "interrupted": _("The edit was interrupted before it finished."),
    "internal": _("Something went wrong inside Gaitu."),
    "storage_full": _(
        "The server's disk is full, so the pictures could not be kept. Delete some edits, "
        "then Retry."
    ),
}
# Said instead of the code's sentence where the gateway package gives a finer reason.
REASON_MESSAGES: dict[tuple[str, str], Promise] = {
    ("interrupted", "cut_off"): _(
        "The reply was cut off at the model's output limit before an image arrived."
    ),
    ("refused", "empty"): _("The model finished without an image or any explanation."),
    # Which rule refused the result link (gateway.failures.LINK_REFUSALS); the detail names it.
    ("link_blocked", "loopback_address"): _(
        "The result link points to the server Gaitu runs on (a loopback address), which Gaitu "
        "does not download from."
    ),
    ("link_blocked", "private_address"): _(
        "The result link points to a private network address, which Gaitu does not download "
        "from. Whoever runs Gaitu can allow that host (GAITU_FETCH_ALLOW_HOSTS)."
    ),
    ("link_blocked", "link_local_address"): _(
        "The result link points to a link-local address (such as a cloud server's metadata "
        "service), which Gaitu does not download from."
    ),
    ("link_blocked", "unspecified_address"): _(
        "The result link points to the unspecified address 0.0.0.0 or ::, which Gaitu does not "
        "download from."
    ),
    ("link_blocked", "multicast_address"): _(
        "The result link points to a multicast address, which Gaitu does not download from."
    ),
    ("link_blocked", "reserved_address"): _(
        "The result link points to a reserved address that is not on the internet, which Gaitu "
        "does not download from."
    ),
    ("link_blocked", "scheme_not_allowed"): _(
        "The result link is not a web link (http or https) nor a picture in the reply, so Gaitu "
        "does not follow it."
    ),
    ("link_blocked", "credentials_in_link"): _(
        "The result link carries a user name or password, so Gaitu does not follow it."
    ),
    ("link_blocked", "invalid_link"): _("The result link is malformed, so Gaitu cannot follow it."),
}
# Failures that Retry would only meet again, so the studio does not offer it: a result link
# refused by a rule is refused again (Retry first downloads the same links, kept because the
# generation was paid for); a rejected key or an exhausted quota stays so until whoever runs
# Gaitu or the gateway acts; the same request is not accepted, the same damaged file not read,
# a second time. The API still retries them: once the host is allowed, that works.
RETRY_WOULD_REPEAT = frozenset(
    {"link_blocked", "key_rejected", "quota_exhausted", "bad_request", "unreadable_picture"}
)

PICTURE_PROBLEMS: dict[str, Promise] = {
    "empty": _("The file is empty."),
    "too_large": _("The file is %(size)s MB; the limit is %(limit)s MB."),
    "too_many_pixels": _("The picture has too many pixels; the limit is %(limit)s megapixels."),
    "megapixels": _("The picture is %(mp)s megapixels; the limit is %(limit)s."),
    "unsupported": _("This file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF)."),
    "unsupported_kind": _(
        "This %(kind)s file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF)."
    ),
    "damaged": _("The picture is damaged or incomplete."),
    "mask_not_png": _("The mask is not a PNG picture."),
    "mask_size": _(
        "The mask is %(width)s × %(height)s px; it must be the picture's own size, "
        "%(picture_width)s × %(picture_height)s px."
    ),
    "mask_empty": _("The mask marks nothing to change: paint the area the edit should change."),
}

# What an edit moved to another provider after, when the gateway gave no HTTP status.
SWITCH_REASONS: dict[str, Promise] = {
    "model_unavailable": _("the model was unavailable"),
    "rate_limited": _("a rate limit"),
    "gateway_error": _("a gateway error"),
    "timeout": _("a timeout"),
    "connection_failed": _("a failed connection"),
}


def failure_message(code: str, reason: str = "") -> Promise:
    """The sentence for a failure; an unknown code reads as Gaitu's own failure."""
    return REASON_MESSAGES.get((code, reason)) or FAILURE_MESSAGES.get(
        code, FAILURE_MESSAGES["internal"]
    )


def picture_problem(problem: InvalidImage) -> str:
    """What is wrong with an uploaded file, in the reader's language."""
    return str(PICTURE_PROBLEMS[problem.problem]) % problem.params


# A pasted link to a picture, refused by the same rules as a result link, said as about that
# link: by the rule that refused it, else whether it was refused or failed to download.
LINK_PROBLEMS: dict[str, Promise] = {
    "link_blocked": _("Gaitu does not download from that link's address."),
    "download_failed": _("The picture at that link could not be downloaded."),
    "loopback_address": _(
        "That link points to the server Gaitu runs on (a loopback address), which Gaitu does "
        "not download from."
    ),
    "private_address": _(
        "That link points to a private network address, which Gaitu does not download from. "
        "Whoever runs Gaitu can allow that host (GAITU_FETCH_ALLOW_HOSTS)."
    ),
    "link_local_address": _(
        "That link points to a link-local address (such as a cloud server's metadata service), "
        "which Gaitu does not download from."
    ),
    "unspecified_address": _(
        "That link points to the unspecified address 0.0.0.0 or ::, which Gaitu does not "
        "download from."
    ),
    "multicast_address": _(
        "That link points to a multicast address, which Gaitu does not download from."
    ),
    "reserved_address": _(
        "That link points to a reserved address that is not on the internet, which Gaitu does "
        "not download from."
    ),
    "scheme_not_allowed": _("That is not a web link (http or https)."),
    "credentials_in_link": _(
        "That link carries a user name or password, so Gaitu does not follow it."
    ),
    "invalid_link": _("That link is malformed, so Gaitu cannot follow it."),
}


def link_problem(problem: FetchError) -> str:
    """Why the picture at a pasted link was not fetched, in the reader's language, with the
    technical reason (a status, a size) after it."""
    sentence = LINK_PROBLEMS.get(problem.refusal) or LINK_PROBLEMS[problem.code]
    if problem.code == "download_failed":
        return f"{sentence} ({problem.reason})"
    return str(sentence)
