from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from accounts.middleware import two_factor_not_required
from accounts.views import admin_login
from webapp.health import healthz

urlpatterns = [
    # First: a request keeps the list of patterns tried before its own, and a live stream
    # keeps its request for as long as it is open.
    path("", include("live.urls")),
    path("healthz", healthz, name="healthz"),  # container and load balancer health checks
    # The admin logs in and changes passwords through the accounts pages: one way in, with one
    # set of limits and two-factor sign-in. These come before the admin's own patterns.
    path("admin/login/", admin_login),
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path(
        "i18n/setlang/",
        two_factor_not_required(login_not_required(set_language)),
        name="set_language",
    ),
    path("", include("accounts.urls")),
    path("", include("api.urls")),
    path("", include("studio.urls")),
    path("", include("exports.urls")),
    path("", include("instructions.urls")),
    path("", include("providers.urls")),
]
