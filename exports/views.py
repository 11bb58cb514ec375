"""The account page's "export my gallery" and "import a gallery", for a signed-in person."""

from uuid import UUID

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AuthenticatedHttpRequest
from editor.limits import MB
from editor.picture_store import open_stream
from webapp.streaming import StreamedFileResponse

from . import services
from .forms import ImportForm
from .importing import IMPORT_MAX_MB, too_large_message
from .models import GalleryExport, GalleryImport


@require_POST
def export_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.start_export(request.user)
    return redirect("account")


@require_GET
def export_status(request: AuthenticatedHttpRequest, export_id: UUID) -> HttpResponse:
    """The export's small status block, which polls itself while the export runs."""
    export = get_object_or_404(GalleryExport, pk=export_id, owner=request.user)
    return render(request, "exports/status.html", {"export": export})


@require_GET
def export_download(request: AuthenticatedHttpRequest, export_id: UUID) -> FileResponse:
    """The ZIP, for its owner only; anyone else, or an expired export, gets 404."""
    export = get_object_or_404(GalleryExport, pk=export_id, owner=request.user)
    if not export.is_downloadable:
        raise Http404
    return download_response(export)


def download_response(export: GalleryExport) -> FileResponse:
    """The ZIP, relayed from the store as it is read (from a bucket too: never a link to it)."""
    try:
        stored = open_stream(export.file.storage, export.file.name or "")
    except OSError:  # gone from the store behind Gaitu's back
        raise Http404 from None
    made = timezone.localtime(export.finished_at or export.created_at)
    response = StreamedFileResponse(
        stored.body,
        content_type="application/zip",
        as_attachment=True,
        filename=f"gaitu-gallery-{made:%Y-%m-%d}.zip",
    )
    response["Content-Length"] = str(stored.size)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def import_gallery(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for problems in form.errors.values():
            messages.error(request, " ".join(str(problem) for problem in problems))
        return redirect("account")
    archive = form.cleaned_data["archive"]
    if archive.size > IMPORT_MAX_MB * MB:
        messages.error(request, too_large_message())
        return redirect("account")
    services.start_import(request.user, archive)
    return redirect("account")


@require_GET
def import_status(request: AuthenticatedHttpRequest, import_id: UUID) -> HttpResponse:
    """The import's small status block, which polls itself while the import runs."""
    job = get_object_or_404(GalleryImport, pk=import_id, owner=request.user)
    return render(request, "exports/import_status.html", {"job": job})
