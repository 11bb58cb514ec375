"""The installable app: the web app manifest, the service worker and its offline page, and
the Web Share Target's answer for when the service worker is not there to take the share."""

import hashlib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from accounts.middleware import two_factor_not_required

# The app shell: what every page loads whoever is signed in, and nothing of anyone's. The
# service worker keeps these (under their hashed names) and the offline page; everything else
# (pages, pictures, the API, live updates) always comes from the network.
SHELL_FILES = [
    "gaitu/gaitu.css",
    "gaitu/studio.css",
    "gaitu/cards.css",
    "gaitu/lightbox.css",
    "gaitu/share.css",
    "gaitu/batch.css",
    "gaitu/instructions.css",
    "gaitu/mask.css",
    "gaitu/gaitu.js",
    "gaitu/upload.js",
    "gaitu/compare.js",
    "gaitu/lightbox.js",
    "gaitu/batch.js",
    "gaitu/instructions.js",
    "gaitu/share.js",
    "gaitu/installable.js",
    "gaitu/share-target.js",
    "django_htmx/htmx-2.min.js",
    "gaitu/favicon.svg",
    "gaitu/picture-missing.svg",
    "gaitu/icons/icon.svg",
    "gaitu/icons/icon-192.png",
    "gaitu/icons/icon-512.png",
    "gaitu/icons/maskable-192.png",
    "gaitu/icons/maskable-512.png",
    "gaitu/icons/apple-touch-icon.png",
]
# The field the share target's files arrive in: the studio form's own.
SHARED_FILES_FIELD = "images"
# The query parameter that tells the studio page (share-target.js) that pictures wait for it.
SHARED_MARKER = "shared"
THEME_COLOUR = "#f6f5f2"  # gaitu.css's --bg (light), the colour the app opens on


def shell_urls() -> list[str]:
    return [static(name) for name in SHELL_FILES] + [reverse("offline")]


@login_not_required
@two_factor_not_required
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, in the visitor's language (it is asked for without cookies)."""
    icons = [
        {"src": static("gaitu/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        *(
            {
                "src": static(f"gaitu/icons/{name}-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for name, purpose in (("icon", "any"), ("maskable", "maskable"))
            for size in (192, 512)
        ),
    ]
    studio = reverse("studio")
    app = {
        "id": studio,
        "name": "改图 Gaitu",
        "short_name": "Gaitu",
        "description": _("Edit pictures by saying what should change, on your own server."),
        "lang": get_language(),
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": studio,
        "scope": studio,
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": THEME_COLOUR,
        "icons": icons,
        # A picture shared from the phone's gallery app opens a new edit with it.
        "share_target": {
            "action": reverse("share_target"),
            "method": "POST",
            "enctype": "multipart/form-data",
            "params": {"files": [{"name": SHARED_FILES_FIELD, "accept": ["image/*"]}]},
        },
    }
    response = JsonResponse(
        app, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@two_factor_not_required
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the root so that it controls every page. Its cache is
    named after the shell's hashed URLs: a new release (new hashes) is a new cache, and the
    old one is deleted when the new worker takes over."""
    shell = shell_urls()
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    context = {
        "version": version,
        "shell_json": json.dumps(shell),
        "offline_url": json.dumps(reverse("offline")),
        "share_target_url": json.dumps(reverse("share_target")),
        "studio_url": json.dumps(f"{reverse('studio')}?{SHARED_MARKER}=1"),
        "files_field": json.dumps(SHARED_FILES_FIELD),
    }
    response = render(request, "studio/service_worker.js", context, content_type="text/javascript")
    # Browsers look for a new worker on every visit; it must never be an old copy.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@login_not_required
@two_factor_not_required
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the installed app shows when there is no network: the service worker keeps it."""
    response = render(request, "studio/offline.html")
    response["Cache-Control"] = "no-cache"
    return response


# Exempt from CSRF because it stores nothing and changes nothing: it reads neither a field nor a
# file of the request, and only redirects to the studio with a message. (The phone's share sheet
# posts here without a token: it cannot have one.)
@csrf_exempt
@login_not_required
@two_factor_not_required
def share_target(request: HttpRequest) -> HttpResponseRedirect:
    """The Web Share Target. The service worker answers the share sheet's POST itself (it keeps
    the pictures for the studio page, share-target.js); this view runs only when no worker
    took it, the first time the app is used: the pictures are not kept, the person is asked to
    share them again now that the worker is there."""
    if request.method == "POST":
        messages.info(
            request, _("Gaitu is open now: share the picture again to start an edit with it.")
        )
    response = HttpResponseRedirect(reverse("studio"))
    response.status_code = 303  # See Other: the studio is asked for with GET
    return response
