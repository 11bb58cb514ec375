from django.contrib.auth import views as auth_views
from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.studio, name="studio"),
    path("setup/", views.setup, name="setup"),
    path("login/", views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("gallery/", views.gallery, name="gallery"),
    path("edits/<uuid:edit_id>/", views.edit_detail, name="edit_detail"),
    path("edits/<uuid:edit_id>/retry/", views.edit_retry, name="edit_retry"),
    path("edits/<uuid:edit_id>/cancel/", views.edit_cancel, name="edit_cancel"),
    path(
        "media/<uuid:edit_id>/<str:kind>/<int:position>/<str:variant>",
        views.media,
        name="media",
    ),
    path("api/v1/edits", api.create_edit, name="api_edits"),
    path("api/v1/edits/<uuid:edit_id>", api.edit_detail, name="api_edit"),
    path("api/v1/edits/<uuid:edit_id>/cancel", api.cancel_edit, name="api_edit_cancel"),
    path("api/v1/edits/<uuid:edit_id>/retry", api.retry_edit, name="api_edit_retry"),
]
