"""The providers in the admin: never their keys (there is no field for one, and the encrypted
column is not shown either); they are added and their keys changed on /providers/. Their
calls are a record, read only."""

from django.contrib import admin
from django.http import HttpRequest

from .models import ModelRoute, Provider, ProviderCall


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "base_url", "transport", "enabled", "position"]
    list_filter = ["enabled", "transport"]
    search_fields = ["name", "base_url"]
    fields = [
        "name",
        "base_url",
        "transport",
        "gemini_key_in",
        "model_names",
        "enabled",
        "position",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a provider needs a key, typed on /providers/add/


@admin.register(ModelRoute)
class ModelRouteAdmin(admin.ModelAdmin):
    list_display = ["model", "position", "provider"]
    list_filter = ["model"]


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    list_display = ["at", "provider", "model", "seconds", "failure_code", "is_test"]
    list_filter = ["failure_code", "is_test", "provider"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
