from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import Edit, ResultImage, Share, SourceImage


class SourceInline(admin.TabularInline):
    model = SourceImage
    extra = 0
    fields = ("position", "filename", "width", "height", "content_type")
    readonly_fields = fields


class ResultInline(admin.TabularInline):
    model = ResultImage
    extra = 0
    fields = ("position", "width", "height", "content_type", "source_url")
    readonly_fields = fields


@admin.register(Edit)
class EditAdmin(admin.ModelAdmin):
    list_display = ("instruction", "owner", "model", "status", "progress", "created_at")
    list_filter = ("status", "model")
    search_fields = ("instruction", "owner__username")
    readonly_fields = [f.name for f in Edit._meta.fields]
    inlines = [SourceInline, ResultInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Deleting here deletes as the studio does: a running edit stops, its pictures go too.
    def delete_model(self, request: HttpRequest, obj: Edit) -> None:
        services.delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Edit]) -> None:
        for edit in queryset:
            services.delete(edit)


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    """The public links, to see what is shared and revoke a link (deleting it: its token
    then answers 404); they are made from the studio only."""

    list_display = ("edit", "show_original", "show_instruction", "created_at")
    readonly_fields = ("edit", "show_original", "show_instruction", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
