from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .middleware import two_factor_not_required

urlpatterns = [
    path("setup/", views.setup, name="setup"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", two_factor_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/tokens/", views.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("account/two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/codes/", views.two_factor_codes, name="two_factor_codes"),
    path("account/two-factor/codes/new/", views.two_factor_new_codes, name="two_factor_new_codes"),
    path("account/two-factor/off/", views.two_factor_off, name="two_factor_off"),
    path("account/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("people/", views.people, name="people"),
    path("people/<int:user_id>/toggle/", views.person_toggle, name="person_toggle"),
]
