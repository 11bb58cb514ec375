"""Gaitu's URLs plus three probes of what the web server hands the app (test-only, see
tests/support/probe_settings.py): who the client is, a long response, a body read whole."""

import asyncio
import json
from collections.abc import AsyncIterator

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from webapp.urls import urlpatterns as gaitu_urlpatterns


@login_not_required
def peer(request: HttpRequest) -> JsonResponse:
    """The client's address and scheme, as Django sees them (after the server's proxy rules)."""
    return JsonResponse(
        {
            "address": request.META.get("REMOTE_ADDR"),
            "scheme": request.scheme,
            "secure": request.is_secure(),
        }
    )


@login_not_required
async def stream(request: HttpRequest) -> StreamingHttpResponse:
    """A line every `every` seconds for `seconds` seconds: a response as long as a live stream."""
    seconds = float(request.GET.get("seconds", "5"))
    every = float(request.GET.get("every", "0.2"))

    async def lines() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        count = 0
        while loop.time() < end:
            yield f"line {count}\n"
            count += 1
            await asyncio.sleep(every)
        yield "end\n"

    return StreamingHttpResponse(lines(), content_type="text/plain")


@csrf_exempt
@login_not_required
def upload(request: HttpRequest) -> HttpResponse:
    """How many bytes of body the app received."""
    received = 0
    while chunk := request.read(1 << 16):
        received += len(chunk)
    return HttpResponse(json.dumps({"received": received}), content_type="application/json")


urlpatterns = [
    path("probe/peer", peer),
    path("probe/stream", stream),
    path("probe/upload", upload),
    *gaitu_urlpatterns,
]
