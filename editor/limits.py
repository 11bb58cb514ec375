"""How much one person may submit: a daily quota and a per-minute rate.

Counts come from the edits themselves, so the web server can run in several processes and
every one sees the same figures.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import ngettext

from .models import Edit

RATE_WINDOW = timedelta(minutes=1)


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


def body_too_large(request: HttpRequest) -> bool:
    """Whether the upload is over what any valid edit could need, judged before reading it."""
    allowed = settings.GAITU_MAX_INPUTS * settings.GAITU_UPLOAD_MAX_MB * 2**20 + 2**20
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > allowed
    except ValueError:
        return True


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))
