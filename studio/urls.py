from django.urls import path

from .views import batches, choosing, detail, gallery, installable, media, share, studio

urlpatterns = [
    path("", studio.studio, name="studio"),
    path("models/", studio.model_options, name="model_options"),
    path("gallery/", gallery.gallery, name="gallery"),
    path("batches/<uuid:group_id>/", batches.batch_detail, name="batch_detail"),
    path("batches/<uuid:group_id>/card", batches.batch_card, name="batch_card"),
    path("batches/<uuid:group_id>/retry/", batches.batch_retry_failed, name="batch_retry_failed"),
    path("batches/<uuid:group_id>/cancel/", batches.batch_cancel_rest, name="batch_cancel_rest"),
    path("batches/<uuid:group_id>/delete/", batches.batch_delete, name="batch_delete"),
    path("batches/<uuid:group_id>/download.zip", batches.batch_download, name="batch_download"),
    path("edits/<uuid:edit_id>/", detail.edit_detail, name="edit_detail"),
    path("edits/<uuid:edit_id>/retry/", detail.edit_retry, name="edit_retry"),
    path("edits/<uuid:edit_id>/cancel/", detail.edit_cancel, name="edit_cancel"),
    path("edits/<uuid:edit_id>/delete/", detail.edit_delete, name="edit_delete"),
    path("edits/<uuid:edit_id>/share/", share.edit_share, name="edit_share"),
    path("edits/<uuid:edit_id>/unshare/", share.edit_unshare, name="edit_unshare"),
    path(
        "edits/<uuid:edit_id>/choose/<int:position>/",
        choosing.choose_result,
        name="edit_choose_result",
    ),
    path(
        "groups/<uuid:group_id>/winner/<uuid:edit_id>/",
        choosing.choose_winner,
        name="group_choose_winner",
    ),
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
