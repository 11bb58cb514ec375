"""/api/v1/exports and /api/v1/imports: the whole gallery as a ZIP, and such a ZIP brought in.
The work is exports' own (exports.services, exports.importing), as for the account page."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from editor.limits import MB
from exports import services
from exports.importing import IMPORT_MAX_MB, too_large_message
from exports.models import GalleryExport, GalleryImport
from exports.views import download_response

from .auth import TokenRequest
from .errors import ApiError
from .schemas import Error, Time, Url, absolute_url

router = Router(tags=["exports"])

EXPORT_LINKS = {
    name: {"operationId": name, "parameters": {"export_id": "$response.body#/id"}}
    for name in ("get_export", "download_export")
}


class ExportOut(Schema):
    id: UUID
    # Not the model's enum: its name, Status, is the edits' enum's in the document.
    status: Literal["queued", "running", "done", "failed"]
    progress: int = Field(ge=0, le=100)
    edits: int = Field(description="Edits in the archive, once it is done.")
    size: int = Field(description="Bytes of the archive, once it is done.")
    error: str | None = Field(description="Why it failed, when it did.")
    url: Url = Field(description="Where to poll the export (`GET`).")
    download_url: Url | None = Field(description="The ZIP, while it is kept (24 hours).")
    created: Time
    finished: Time | None
    expires: Time | None

    @staticmethod
    def resolve_status(export: GalleryExport) -> str:
        # An export whose worker went away is failed, as the account page says.
        return GalleryExport.Status.FAILED if export.is_stale else export.status

    @staticmethod
    def resolve_error(export: GalleryExport) -> str | None:
        if export.is_stale:
            return _("The export stopped before it was finished. Try again.")
        return export.error or None

    @staticmethod
    def resolve_url(export: GalleryExport, context: dict[str, Any]) -> str:
        return absolute_url(context, reverse("api_export", args=[export.pk]))

    @staticmethod
    def resolve_download_url(export: GalleryExport, context: dict[str, Any]) -> str | None:
        if not export.is_downloadable:
            return None
        return absolute_url(context, reverse("api_export_download", args=[export.pk]))

    @staticmethod
    def resolve_created(export: GalleryExport) -> datetime:
        return export.created_at

    @staticmethod
    def resolve_finished(export: GalleryExport) -> datetime | None:
        return export.finished_at

    @staticmethod
    def resolve_expires(export: GalleryExport) -> datetime | None:
        return export.expires_at


# The form the view reads itself (request.FILES), described as it is read.
NEW_IMPORT = {
    "type": "object",
    "properties": {
        "archive": {
            "type": "string",
            "format": "binary",
            "description": "A ZIP exported from a Gaitu (`POST /exports`).",
        }
    },
    "required": ["archive"],
}


class ImportProblem(Schema):
    code: str = Field(
        description="`not_a_zip`, `not_gaitu`, `unsupported_version`, `invalid_index`, "
        "`unsafe_name`, `invalid_picture`, `missing_picture`, `too_many`, `too_large`, "
        "`quota_exceeded` or `internal`."
    )
    message: str


class ImportOut(Schema):
    id: UUID
    status: Literal["queued", "running", "done", "failed"]
    progress: int = Field(ge=0, le=100)
    edits: int = Field(description="Edits added to your gallery, once it is done.")
    error: ImportProblem | None = Field(description="Why the archive was refused, if it was.")
    url: Url = Field(description="Where to poll the import (`GET`).")
    created: Time
    finished: Time | None

    @staticmethod
    def resolve_status(job: GalleryImport) -> str:
        return GalleryImport.Status.FAILED if job.is_stale else job.status

    @staticmethod
    def resolve_error(job: GalleryImport) -> dict[str, str] | None:
        if job.is_stale:
            message = _("The import stopped before it was finished. Try again.")
            return {"code": "internal", "message": message}
        return {"code": job.error_code, "message": job.error} if job.error_code else None

    @staticmethod
    def resolve_url(job: GalleryImport, context: dict[str, Any]) -> str:
        return absolute_url(context, reverse("api_import", args=[job.pk]))

    @staticmethod
    def resolve_created(job: GalleryImport) -> datetime:
        return job.created_at

    @staticmethod
    def resolve_finished(job: GalleryImport) -> datetime | None:
        return job.finished_at


IMPORT_LINKS = {
    "get_import": {"operationId": "get_import", "parameters": {"import_id": "$response.body#/id"}}
}


def own_export(request: TokenRequest, export_id: UUID) -> GalleryExport:
    export = GalleryExport.objects.filter(pk=export_id, owner=request.user).first()
    if export is None:
        raise ApiError(404, "not_found", _("There is no such export."))
    return export


@router.post(
    "/exports",
    response={202: ExportOut, 401: Error},
    operation_id="create_export",
    url_name="api_exports",
    summary="Start an export of your whole gallery as a ZIP",
    description="Built in the background: poll the answer's `url` until `status` is `done`, "
    "then fetch `download_url`. One export at a time: while one is under way it is answered "
    "again; a new one replaces the previous archive.",
    openapi_extra={"responses": {202: {"links": EXPORT_LINKS}}},
)
def create_export(request: TokenRequest) -> Status:
    return Status(202, services.start_export(request.user))


@router.get(
    "/exports/{export_id}",
    response={200: ExportOut, 401: Error, 404: Error},
    operation_id="get_export",
    url_name="api_export",
    summary="An export's status and progress, with its download link when done",
)
def get_export(request: TokenRequest, export_id: UUID) -> GalleryExport:
    return own_export(request, export_id)


@router.get(
    "/exports/{export_id}/download",
    response={401: Error, 404: Error, 409: Error},
    operation_id="download_export",
    url_name="api_export_download",
    summary="The export's ZIP",
    description="409 `not_ready` while it is being built or when it failed; 404 once it is "
    "no longer kept.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The ZIP archive",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_export(request: TokenRequest, export_id: UUID) -> FileResponse:
    export = own_export(request, export_id)
    if export.status != GalleryExport.Status.DONE:
        raise ApiError(409, "not_ready", _("This export is not ready to download."))
    if not export.is_downloadable:
        raise ApiError(404, "not_found", _("This export is no longer kept. Start another."))
    return download_response(export)


@router.post(
    "/imports",
    response={202: ImportOut, 400: Error, 401: Error, 413: Error},
    operation_id="create_import",
    url_name="api_imports",
    summary="Import a gallery ZIP into your gallery, in the background",
    description="Poll the answer's `url` until `status` is `done` or `failed`. All or nothing: "
    "an archive that is not a Gaitu gallery, or holds one picture that is not whole, is refused "
    "(`error` says why) and nothing of it is kept. The edits get new ids; share links are not "
    f"carried over. 413 over {IMPORT_MAX_MB} MB.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": NEW_IMPORT,
                    "encoding": {"archive": {"contentType": "application/zip"}},
                }
            },
        },
        "responses": {202: {"links": IMPORT_LINKS}},
    },
)
def create_import(request: TokenRequest) -> Status:
    # A body over IMPORT_MAX_MB (and the form's margin) never reaches here: it is refused
    # unread as request_too_large (webapp/request_limits.py).
    upload = request.FILES.get("archive")
    if upload is None:
        message = _("Send the archive as the form field “archive”.")
        raise ApiError(400, "required", message, field="archive")
    if (upload.size or 0) > IMPORT_MAX_MB * MB:
        raise ApiError(413, "too_large", too_large_message())
    return Status(202, services.start_import(request.user, upload))


@router.get(
    "/imports/{import_id}",
    response={200: ImportOut, 401: Error, 404: Error},
    operation_id="get_import",
    url_name="api_import",
    summary="An import's status and progress, or why it was refused",
)
def get_import(request: TokenRequest, import_id: UUID) -> GalleryImport:
    job = GalleryImport.objects.filter(pk=import_id, owner=request.user).first()
    if job is None:
        raise ApiError(404, "not_found", _("There is no such import."))
    return job
