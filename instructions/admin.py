from django.contrib import admin

from .models import ReadyInstruction, SavedInstruction


@admin.register(ReadyInstruction)
class ReadyInstructionAdmin(admin.ModelAdmin):
    list_display = ["label_en", "label_zh", "position"]
    list_editable = ["position"]
    ordering = ["position", "id"]


@admin.register(SavedInstruction)
class SavedInstructionAdmin(admin.ModelAdmin):
    list_display = ["owner", "__str__", "starred", "uses", "last_used_at"]
    list_filter = ["starred"]
    search_fields = ["text", "owner__username"]
    readonly_fields = ["digest"]
