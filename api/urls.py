from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/openapi.json", views.openapi, name="api_openapi"),
    path("api/v1/models", views.models, name="api_models"),
    path("api/v1/edits", views.edits, name="api_edits"),
    path("api/v1/edits/<uuid:edit_id>", views.edit_detail, name="api_edit"),
    path("api/v1/edits/<uuid:edit_id>/share", views.share_edit, name="api_edit_share"),
    path("api/v1/edits/<uuid:edit_id>/cancel", views.cancel_edit, name="api_edit_cancel"),
    path("api/v1/edits/<uuid:edit_id>/retry", views.retry_edit, name="api_edit_retry"),
]
