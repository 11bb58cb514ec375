"""The site's URLs, with the webhooks' own routed whether or not api/v1.py and accounts/urls.py
route them yet: until then the router is mounted here on an API of its own (same auth, same
error answers), at the same address. Once they do, the site's are the ones used."""

from django.urls import URLPattern, include, path

from accounts import views
from api import errors
from api.auth import TokenAuth
from api.urls import api_patterns, for_scripts
from webapp.urls import urlpatterns as site
from webhooks.api import router

extra: list = [
    path("account/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete")
]
if not any(pattern.name == "api_webhooks" for pattern in api_patterns()):
    from ninja import NinjaAPI

    webhooks_api = NinjaAPI(urls_namespace="webhooks-test", auth=TokenAuth())
    errors.install(webhooks_api)
    webhooks_api.add_router("", router)
    extra.append(
        path(
            "api/v1/",
            include(
                [
                    URLPattern(p.pattern, for_scripts(p.callback), p.default_args, p.name)
                    for p in webhooks_api.urls[0]
                    if isinstance(p, URLPattern)
                ]
            ),
        )
    )

urlpatterns = [*extra, *site]
