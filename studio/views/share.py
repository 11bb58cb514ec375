"""Sharing: the owner makes or revokes a public link; strangers see the shared page."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from editor import services
from editor.models import Share
from studio.http import AuthenticatedHtmxRequest

from .cards import card_or_page, own_edit
from .media import MEDIA_KINDS, MEDIA_VARIANTS, SHARE_CACHE, picture_response, stored_picture


@require_POST
def edit_share(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    edit = own_edit(request, edit_id)
    shared = services.share(
        edit,
        show_original=bool(request.POST.get("show_original")),
        show_instruction=bool(request.POST.get("show_instruction")),
    )
    if shared is None:
        messages.warning(request, _("Only a finished edit with a result can be shared."))
    return card_or_page(request, edit)


@require_POST
def edit_unshare(request: AuthenticatedHtmxRequest, edit_id: UUID) -> HttpResponse:
    edit = own_edit(request, edit_id)
    services.unshare(edit)
    return card_or_page(request, edit)


def _shared(token: str) -> Share:
    return get_object_or_404(
        Share.objects.select_related("edit").prefetch_related("edit__sources", "edit__results"),
        token=token,
    )


@login_not_required
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The public page of a shared result: no login, nothing else of the owner's."""
    share = _shared(token)
    edit = share.edit
    chosen = edit.chosen_result
    # The result that stands for the edit comes first: the one shown, downloaded and previewed.
    results = sorted(edit.results.all(), key=lambda result: result != chosen)
    context = {
        "share": share,
        "edit": edit,
        "results": results,
        # A generation has no original to show, whatever the link was made with.
        "show_original": share.show_original and bool(edit.sources.all()),
    }
    response = render(request, "studio/shared.html", context)
    response["Cache-Control"] = SHARE_CACHE  # a revoked link must stop working everywhere
    return response


@login_not_required
def shared_media(
    request: HttpRequest, token: str, kind: str, position: int, variant: str
) -> HttpResponseBase:
    share = _shared(token)
    if kind not in MEDIA_KINDS or variant not in MEDIA_VARIANTS:
        raise Http404
    if kind == "source" and not share.show_original:
        raise Http404
    image = stored_picture(kind, edit=share.edit, position=position)
    return picture_response(image, kind, variant, shared=True)
