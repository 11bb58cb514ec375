"""/api/v1/webhooks: the addresses that hear when the token's edits, batches and comparisons
end (mounted by api/v1.py). A webhook belongs to the token that made it, which alone sees it."""

import json
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from api.auth import TokenRequest
from api.errors import ApiError
from api.schemas import Error, Time, Url

from .forms import WebhookForm
from .models import Delivery, Webhook

router = Router(tags=["webhooks"])


class NewWebhook(Schema):
    url: Url = Field(
        max_length=2000,
        description="Where to POST: http or https, not a private or local address. Gaitu "
        "sends `edit.ended`, `batch.ended` and `comparison.ended` for what this token starts.",
    )


class LastDelivery(Schema):
    event: Delivery.Event
    status: Delivery.Status = Field(description="`pending` while it is still being tried.")
    attempted: Time | None = Field(description="The last attempt; null before the first.")
    status_code: int | None = Field(description="What the URL answered last; null for none.")

    @staticmethod
    def resolve_attempted(delivery: Delivery) -> datetime | None:
        return delivery.last_attempt_at

    @staticmethod
    def resolve_status_code(delivery: Delivery) -> int | None:
        return delivery.last_status_code


class WebhookOut(Schema):
    id: int
    url: Url
    created: Time
    last_delivery: LastDelivery | None

    @staticmethod
    def resolve_created(webhook: Webhook) -> datetime:
        return webhook.created_at

    @staticmethod
    def resolve_last_delivery(webhook: Webhook) -> Delivery | None:
        return webhook.deliveries.order_by("-created_at").first()


class CreatedWebhook(Schema):
    id: int
    url: Url
    created: Time
    secret: str = Field(
        description="Signs every delivery (the `Gaitu-Signature` header). Shown only in this "
        "answer: keep it now."
    )


def _webhooks_of(request: TokenRequest) -> QuerySet[Webhook]:
    return Webhook.objects.filter(token=request.api_token)


def _url_from_body(request: TokenRequest) -> str:
    """The body's url, checked as WebhookForm checks it."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        message = _('Send a JSON object with the URL, as {"url": "https://…"}.')
        raise ApiError(400, "bad_request", message)
    form = WebhookForm({"url": data.get("url")})
    if not form.is_valid():
        problem = form.errors.as_data()["url"][0]
        raise ApiError(400, problem.code or "invalid", " ".join(problem.messages), field="url")
    url: str = form.cleaned_data["url"]
    return url


@router.post(
    "/webhooks",
    response={201: CreatedWebhook, 400: Error, 401: Error},
    operation_id="create_webhook",
    url_name="api_webhooks",
    summary="Register a webhook",
    description="Each delivery is a POST of JSON, signed with the secret in this answer: "
    '`Gaitu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with '
    "`Gaitu-Event` and `Gaitu-Delivery` (its id, the same on every retry). An answer in 2xx "
    "counts as received; others are tried again for some nine hours. At most "
    f"{Webhook.MAX_PER_TOKEN} webhooks a token.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": NewWebhook.model_json_schema()}},
        }
    },
)
def create_webhook(request: TokenRequest) -> Status:
    token = request.api_token
    url = _url_from_body(request)
    if token.webhooks.count() >= Webhook.MAX_PER_TOKEN:
        message = _("A token may have %(count)s webhooks at most: delete one first.") % {
            "count": Webhook.MAX_PER_TOKEN
        }
        raise ApiError(400, "too_many", message)
    webhook = Webhook.objects.create(
        token=token,
        url=url,
        secret=Webhook.new_secret(),
        origin=request.build_absolute_uri("/").rstrip("/"),
    )
    created = CreatedWebhook(
        id=webhook.pk, url=webhook.url, created=webhook.created_at, secret=webhook.secret
    )
    return Status(201, created)


@router.get(
    "/webhooks",
    response={200: list[WebhookOut], 401: Error},
    operation_id="list_webhooks",
    url_name="api_webhooks",
    summary="This token's webhooks, with how each last delivery went",
)
def list_webhooks(request: TokenRequest) -> QuerySet[Webhook]:
    return _webhooks_of(request).order_by("created_at")


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, 401: Error, 404: Error},
    operation_id="delete_webhook",
    url_name="api_webhook",
    summary="Delete a webhook: nothing more is sent to it",
)
def delete_webhook(request: TokenRequest, webhook_id: int) -> Status:
    webhook = _webhooks_of(request).filter(pk=webhook_id).first()
    if webhook is None:
        raise ApiError(404, "not_found", _("There is no such webhook."))
    webhook.delete()
    return Status(204, None)
