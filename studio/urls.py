from django.urls import path

from .views import detail, gallery, installable, media, share, studio

urlpatterns = [
    path("", studio.studio, name="studio"),
    path("models/", studio.model_options, name="model_options"),
    path("gallery/", gallery.gallery, name="gallery"),
    path("edits/<uuid:edit_id>/", detail.edit_detail, name="edit_detail"),
    path("edits/<uuid:edit_id>/retry/", detail.edit_retry, name="edit_retry"),
    path("edits/<uuid:edit_id>/cancel/", detail.edit_cancel, name="edit_cancel"),
    path("edits/<uuid:edit_id>/delete/", detail.edit_delete, name="edit_delete"),
    path("edits/<uuid:edit_id>/share/", share.edit_share, name="edit_share"),
    path("edits/<uuid:edit_id>/unshare/", share.edit_unshare, name="edit_unshare"),
    path(
        "media/<uuid:edit_id>/<str:kind>/<int:position>/<str:variant>",
        media.media,
        name="media",
    ),
    path("s/<str:token>", share.shared, name="shared"),
    path(
        "s/<str:token>/<str:kind>/<int:position>/<str:variant>",
        share.shared_media,
        name="shared_media",
    ),
    # The installable app: at the root, so that the service worker's scope is every page.
    path("manifest.webmanifest", installable.manifest, name="manifest"),
    path("sw.js", installable.service_worker, name="service_worker"),
    path("offline/", installable.offline, name="offline"),
    path("share-target/", installable.share_target, name="share_target"),
]
