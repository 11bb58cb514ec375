"""Gaitu's URLs plus two floors: the least a view can do for the same request."""

import secrets

from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from webapp.urls import urlpatterns as gaitu_urlpatterns


@csrf_exempt
@login_not_required
def save_upload(request):
    """Only saves the uploaded file: the floor for submitting an edit."""
    upload = request.FILES["image"]
    default_storage.save(f"floor/{secrets.token_hex(8)}.jpg", upload)
    return HttpResponse(status=201)


def static_answer(request):
    """A constant answer behind the same middleware and login: the floor for a status poll."""
    return HttpResponse("ok")


urlpatterns = [
    path("floor/save", save_upload),
    path("floor/static", static_answer),
    *gaitu_urlpatterns,
]
