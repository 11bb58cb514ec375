"""/api/v1/account: what the requester has used of their limits, as the account page shows it."""

from django.conf import settings
from django.utils import timezone
from ninja import Field, Router, Schema

from editor.limits import MB, stored_bytes
from editor.models import Edit

from .auth import TokenRequest
from .schemas import Error

router = Router(tags=["account"])


class Usage(Schema):
    username: str
    stored_bytes: int = Field(description="Bytes of your stored pictures, thumbnails included.")
    storage_quota_bytes: int | None = Field(
        description="What you may store before new edits are refused (507 `quota_exceeded`); "
        "null when there is no quota."
    )
    edits_today: int = Field(description="Edits started since midnight, server time.")
    daily_limit: int | None = Field(description="Edits you may start a day; null when unlimited.")


@router.get(
    "/account",
    response={200: Usage, 401: Error},
    operation_id="get_account",
    url_name="api_account",
    summary="Your usage: storage and today's edits, with their limits",
)
def get_account(request: TokenRequest) -> Usage:
    user = request.user
    day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Usage(
        username=user.get_username(),
        stored_bytes=stored_bytes(user),
        storage_quota_bytes=settings.GAITU_STORAGE_QUOTA_MB * MB or None,
        edits_today=Edit.objects.filter(owner=user, created_at__gte=day_start).count(),
        daily_limit=settings.GAITU_DAILY_LIMIT or None,
    )
