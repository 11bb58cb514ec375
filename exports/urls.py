from django.urls import path

from . import views

urlpatterns = [
    path("account/export/", views.export_start, name="export_start"),
    path("account/export/<uuid:export_id>/", views.export_status, name="export_status"),
    path(
        "account/export/<uuid:export_id>/download/",
        views.export_download,
        name="export_download",
    ),
    path("account/import/", views.import_gallery, name="import_gallery"),
    path("account/import/<uuid:import_id>/", views.import_status, name="import_status"),
]
