from django.urls import path

from . import views

urlpatterns = [
    path("providers/", views.provider_list, name="providers"),
    path("providers/add/", views.provider_add, name="provider_add"),
    path("providers/models/", views.ask_models, name="provider_ask_models"),
    path("providers/<int:provider_id>/", views.provider_edit, name="provider_edit"),
    path(
        "providers/<int:provider_id>/models/",
        views.ask_models,
        name="provider_ask_models_stored",
    ),
    path("providers/<int:provider_id>/move/", views.provider_move, name="provider_move"),
    path("providers/<int:provider_id>/delete/", views.provider_delete, name="provider_delete"),
    path("providers/order/", views.model_order, name="model_order"),
    path("providers/order/change/", views.model_order_change, name="model_order_change"),
    path("providers/order/reset/", views.model_order_reset, name="model_order_reset"),
    path("providers/health/", views.provider_health, name="provider_health"),
    path("providers/health/test/", views.provider_test, name="environment_test"),
    path("providers/<int:provider_id>/test/", views.provider_test, name="provider_test"),
]
