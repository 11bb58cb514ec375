from django.contrib import admin
from django.http import HttpRequest

from .models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    # Never the secret: it is shown once, to whoever made the webhook.
    list_display = ("url", "token", "created_at")
    fields = ("url", "token", "origin", "created_at")
    readonly_fields = ("token", "origin", "created_at")
    search_fields = ("url",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made through the API, which makes the secret and shows it


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "webhook", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event")
    readonly_fields = (
        "webhook",
        "event",
        "subject",
        "payload",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )
    fields = (*readonly_fields[:4], "status", "next_attempt_at", *readonly_fields[4:])
