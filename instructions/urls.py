from django.urls import path

from . import views

urlpatterns = [
    path("instructions/", views.my_instructions, name="my_instructions"),
    path("instructions/picker/", views.picker, name="instruction_picker"),
    path("instructions/<int:saved_id>/star/", views.star, name="instruction_star"),
    path("instructions/<int:saved_id>/forget/", views.forget, name="instruction_forget"),
    path("instructions/ready/", views.ready_list, name="ready_instructions"),
    path("instructions/ready/<int:ready_id>/", views.ready_edit, name="ready_instruction_edit"),
    path(
        "instructions/ready/<int:ready_id>/move/",
        views.ready_move,
        name="ready_instruction_move",
    ),
    path(
        "instructions/ready/<int:ready_id>/delete/",
        views.ready_delete,
        name="ready_instruction_delete",
    ),
]
