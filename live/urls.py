from django.urls import path

from . import views

urlpatterns = [path("edits/live", views.edit_events, name="edit_events")]
