from django.contrib.auth import views as auth_views
from django.urls import path

from . import accounts, api, live, views

urlpatterns = [
    path("", views.studio, name="studio"),
    path("setup/", accounts.setup, name="setup"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", accounts.signup, name="signup"),
    path("account/", accounts.account, name="account"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url="/account/"
        ),
        name="password_change",
    ),
    path("account/tokens/", accounts.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token_revoke"),
    path("people/", accounts.people, name="people"),
    path("people/<int:user_id>/toggle/", accounts.person_toggle, name="person_toggle"),
    path("gallery/", views.gallery, name="gallery"),
    path("models/", views.model_options, name="model_options"),
    path("edits/live", live.edit_events, name="edit_events"),
    path("edits/<uuid:edit_id>/", views.edit_detail, name="edit_detail"),
    path("edits/<uuid:edit_id>/retry/", views.edit_retry, name="edit_retry"),
    path("edits/<uuid:edit_id>/cancel/", views.edit_cancel, name="edit_cancel"),
    path(
        "media/<uuid:edit_id>/<str:kind>/<int:position>/<str:variant>",
        views.media,
        name="media",
    ),
    path("edits/<uuid:edit_id>/delete/", views.edit_delete, name="edit_delete"),
    path("edits/<uuid:edit_id>/share/", views.edit_share, name="edit_share"),
    path("edits/<uuid:edit_id>/unshare/", views.edit_unshare, name="edit_unshare"),
    path("s/<str:token>", views.shared, name="shared"),
    path(
        "s/<str:token>/<str:kind>/<int:position>/<str:variant>",
        views.shared_media,
        name="shared_media",
    ),
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
    path("api/v1/models", api.models, name="api_models"),
    path("api/v1/edits", api.edits, name="api_edits"),
    path("api/v1/edits/<uuid:edit_id>", api.edit_detail, name="api_edit"),
    path("api/v1/edits/<uuid:edit_id>/share", api.share_edit, name="api_edit_share"),
    path("api/v1/edits/<uuid:edit_id>/cancel", api.cancel_edit, name="api_edit_cancel"),
    path("api/v1/edits/<uuid:edit_id>/retry", api.retry_edit, name="api_edit_retry"),
]
