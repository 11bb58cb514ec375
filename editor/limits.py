"""How much one person may submit: a daily quota and a per-minute rate, and room to keep it:
a floor of free disk space (the media folder's, or with a bucket the temporary folder's) and a
storage quota.

Counts come from the edits themselves, so the web server can run in several processes and
every one sees the same figures.
"""

import errno
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, models
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Edit, ResultImage, SourceImage
from .picture_store import is_local, picture_storage

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)
MB = 2**20
# What a write says when the disk (or the person's share of it) is full.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


@dataclass(frozen=True)
class LimitReached:
    code: str
    message: str
    retry_after: int  # seconds


def submission_limit(user: User, now: datetime | None = None) -> LimitReached | None:
    """Why this person may not submit another edit now, or None if they may."""
    now = now or timezone.now()
    mine = Edit.objects.filter(owner=user)
    daily = settings.GAITU_DAILY_LIMIT
    if daily:
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if mine.filter(created_at__gte=day_start).count() >= daily:
            resets = day_start + timedelta(days=1)
            message = ngettext(
                "You have used your %(limit)d edit for today. It resets at %(time)s.",
                "You have used all %(limit)d edits for today. They reset at %(time)s.",
                daily,
            ) % {"limit": daily, "time": time_format(resets, "H:i")}
            return LimitReached("daily_limit", message, _seconds_until(resets, now))
    per_minute = settings.GAITU_RATE_LIMIT
    if per_minute:
        recent = list(
            mine.filter(created_at__gt=now - RATE_WINDOW)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:per_minute]
        )
        if len(recent) >= per_minute:
            wait = _seconds_until(recent[-1] + RATE_WINDOW, now)
            message = ngettext(
                "That is a lot of edits in a minute. Try again in %(seconds)d second.",
                "That is a lot of edits in a minute. Try again in %(seconds)d seconds.",
                wait,
            ) % {"seconds": wait}
            return LimitReached("rate_limited", message, wait)
    return None


@dataclass(frozen=True)
class NoRoom:
    """Why a new edit cannot be stored; answered as 507 Insufficient Storage."""

    code: str
    message: str


def storage_refusal(user: User) -> NoRoom | None:
    """Why there is no room for another edit of this person's, or None if there is.

    Asked before each submission only: one look at the disk, and a sum when there is a quota.
    """
    floor = settings.GAITU_MIN_FREE_MB
    if floor and free_bytes() < floor * MB:
        return storage_full()
    quota = settings.GAITU_STORAGE_QUOTA_MB
    if quota:
        used = stored_bytes(user)
        if used >= quota * MB:
            message = _(
                "Your pictures take up %(used)s of your %(quota)s of storage. "
                "Delete some edits to make room for new ones."
            ) % {"used": filesizeformat(used), "quota": filesizeformat(quota * MB)}
            return NoRoom("quota_exceeded", message)
    return None


def storage_full() -> NoRoom:
    message = _(
        "The server is running out of disk space, so it cannot take new edits for now. "
        "Your edits are safe, and deleting some frees space."
    )
    return NoRoom("storage_full", message)


def storage_failure(exc: Exception) -> NoRoom | None:
    """The refusal to show for an error while storing an edit, or None when it is not about
    storage (and should be raised on)."""
    # SQLite says "database or disk is full" when it cannot grow its files.
    full = isinstance(exc, OSError) and exc.errno in DISK_FULL
    if full or (isinstance(exc, DatabaseError) and "disk is full" in str(exc)):
        logger.warning("an edit could not be stored: the disk is full (%s)", exc)
        return storage_full()
    if isinstance(exc, OSError):
        logger.error("an edit could not be stored", exc_info=exc)
        message = _("Your pictures could not be stored, so the edit was not started. Try again.")
        return NoRoom("storage_error", message)
    return None


def free_bytes() -> int:
    """Free space on the disk that new pictures fill on this machine (nearest existing folder
    up, as the media folder is made with the first picture).

    In the data folder that is the media folder's disk. With the pictures in a bucket, which
    has no free space to ask about, it is the temporary folder: every upload over
    FILE_UPLOAD_MAX_MEMORY_SIZE is written there on its way to the bucket, as is a picture
    read back that is larger than the storage keeps in memory, and a full one would fail an
    edit halfway where the floor refuses it whole.
    """
    storage = picture_storage()
    folder = Path(settings.MEDIA_ROOT if is_local(storage) else temporary_folder())
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def temporary_folder() -> str:
    """Where Django writes large uploads, and the storage spools large pictures it reads."""
    configured: str | None = settings.FILE_UPLOAD_TEMP_DIR  # None: the system's
    return configured or tempfile.gettempdir()


def stored_bytes(user: User) -> int:
    """The bytes of this person's stored pictures: originals, results and their thumbnails."""
    total = models.Sum("size", default=0)
    return sum(
        model.objects.filter(edit__owner=user).aggregate(total=total)["total"]
        for model in (SourceImage, ResultImage)
    )


# Room for an edit's own fields beside its pictures: the instruction (4,000 characters, up
# to 16 KB in UTF-8), the model, the CSRF token, and each part's headers and boundary.
FORM_MARGIN = MB


def edit_body_max_bytes() -> int:
    """The largest request body an edit can need: every picture it takes at the largest size,
    and its fields; or a batch's, one picture for each of its edits. Larger bodies are refused
    unread (webapp/request_limits.py)."""
    return most_pictures_at_once() * settings.GAITU_UPLOAD_MAX_MB * MB + FORM_MARGIN


def most_pictures_at_once() -> int:
    return max(settings.GAITU_MAX_INPUTS, settings.GAITU_BATCH_MAX)


def upload_too_large_message() -> str:
    return _(
        "The upload is too large: an edit takes at most %(count)d pictures of up to "
        "%(size)d MB each, a batch at most %(batch)d."
    ) % {
        "count": settings.GAITU_MAX_INPUTS,
        "size": settings.GAITU_UPLOAD_MAX_MB,
        "batch": settings.GAITU_BATCH_MAX,
    }


def content_length_over(request: HttpRequest, max_bytes: int) -> bool:
    """Whether the request says its body is over max_bytes (a length that is no number is)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return not 0 <= length <= max_bytes


def body_too_large(request: HttpRequest) -> bool:
    """Whether the upload is over what any valid edit could need, judged before reading it."""
    return content_length_over(request, edit_body_max_bytes())


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))
