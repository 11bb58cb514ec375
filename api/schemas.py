"""What the JSON API takes and answers, as pydantic schemas; ninja writes the OpenAPI document
from them. The answers are the ones the API has always given, key for key."""

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema
from ninja.files import UploadedFile
from pydantic import PlainSerializer, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict, SkipJsonSchema
from pydantic_core import PydanticUseDefault

from editor.gateways import offered_models
from editor.models import Edit, ResultImage, Share, SourceImage
from gateway.failures import CODES, LINK_REFUSALS

# Times as Python's isoformat() writes them (microseconds, "+00:00"), as the API always has;
# ninja's own encoder would cut them to milliseconds and write "Z".
Time = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
# May be left out (None here), and is never null in JSON: the document says just its type.
Absent = SkipJsonSchema[None]

# The picture types the studio's file picker offers; the content decides, never the name.
IMAGE_TYPES = "image/jpeg, image/png, image/webp, image/gif"


def _picture_url(context: dict[str, Any], image: SourceImage | ResultImage, kind: str) -> str:
    """The picture's full-size address; it answers to the same token."""
    return absolute_url(
        context, reverse("media", args=[image.edit_id, kind, image.position, "full"])
    )


def absolute_url(context: dict[str, Any], path: str) -> str:
    """An absolute URL, as scripts want them: ninja validates answers with the request at hand."""
    request: HttpRequest = context["request"]
    return request.build_absolute_uri(path)


# --- Errors --------------------------------------------------------------------------------


class Problem(Schema):
    code: str = Field(description="Stable, for programs: e.g. `invalid`, `not_found`.")
    message: str = Field(description="For people, in the language the request asks for.")
    field: str | Absent = Field(None, description="The parameter or form field at fault.")
    retry_after: int | Absent = Field(None, description="Seconds to wait (with 429).")


class Error(Schema):
    error: Problem


# --- Edits ---------------------------------------------------------------------------------


class Source(Schema):
    url: Url

    @staticmethod
    def resolve_url(image: SourceImage, context: dict[str, Any]) -> str:
        return _picture_url(context, image, "source")


class Result(Schema):
    url: Url
    width: int
    height: int

    @staticmethod
    def resolve_url(image: ResultImage, context: dict[str, Any]) -> str:
        return _picture_url(context, image, "result")


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in sorted(names))


class Failure(Schema):
    code: str = Field(
        description=f"Why the edit failed, for programs: one of {_codes(CODES)}. An edit "
        "imported from another Gaitu keeps the code it had there."
    )
    reason: str = Field(
        description="A finer reason within the code, or empty. For `link_blocked`, which "
        f"rule refused the result link: one of {_codes(LINK_REFUSALS)}. For `interrupted`, "
        "`cut_off` (the model's output limit); for `refused`, `empty` (no words at all)."
    )
    message: str = Field(description="For people, in the language the request asks for.")
    detail: str = Field(
        description="The gateway's or the model's own words; for `link_blocked`, each link "
        "that was refused and what about it."
    )


class ShareLink(Schema):
    url: Url = Field(description="The public page; it answers 404 once the link is revoked.")
    show_original: bool
    show_instruction: bool
    created: Time

    @staticmethod
    def resolve_url(share: Share, context: dict[str, Any]) -> str:
        return absolute_url(context, reverse("shared", args=[share.token]))

    @staticmethod
    def resolve_created(share: Share) -> datetime:
        return share.created_at


class EditOut(Schema):
    id: UUID
    status: Edit.Status
    stage: Edit.Stage
    progress: int | None = Field(ge=0, le=100)
    error: Failure | None
    instruction: str
    model: str
    sources: list[Source]
    results: list[Result]
    share: ShareLink | None
    created: Time
    finished: Time | None

    @staticmethod
    def resolve_error(edit: Edit) -> dict[str, str] | None:
        if not edit.error_code:
            return None
        return {
            "code": edit.error_code,
            "reason": edit.error_reason,
            "message": edit.failure_message,
            "detail": edit.error_detail,
        }

    @staticmethod
    def resolve_share(edit: Edit) -> Share | None:
        return getattr(edit, "share", None)

    @staticmethod
    def resolve_created(edit: Edit) -> datetime:
        return edit.created_at

    @staticmethod
    def resolve_finished(edit: Edit) -> datetime | None:
        return edit.finished_at


class EditPage(Schema):
    results: list[EditOut]
    count: int = Field(description="Edits in all pages.")
    page: int
    pages: int


class Accepted(Schema):
    id: UUID
    status: Edit.Status
    url: Url = Field(description="Where to poll the edit (`GET`).")


# --- Models --------------------------------------------------------------------------------


class Models(Schema):
    models: list[str] = Field(description="The configured ones first, then the gateway's.")
    default: str = Field(description="What an edit that names no model uses.")


# --- Query parameters ----------------------------------------------------------------------
# An empty query parameter counts as left out, as a form's blank field does (`?status=&page=`
# lists all from the first page, as the API always has); the document says so with OpenAPI's
# allowEmptyValue, which api/v1.py moves from the parameter's schema onto the parameter.
EMPTY_IS_ABSENT: JsonDict = {"allowEmptyValue": True}
STATUSES: JsonDict = {"type": "string", "enum": list(Edit.Status.values)}


class EditFilters(Schema):
    # Not `| Absent`: a union would name its branch in the error's location.
    status: Annotated[Edit.Status | None, WithJsonSchema(STATUSES)] = Field(
        None, description="Only edits in this status.", json_schema_extra=EMPTY_IS_ABSENT
    )
    page: int = Field(
        1, ge=1, description="20 edits a page, newest first.", json_schema_extra=EMPTY_IS_ABSENT
    )

    @field_validator("status", "page", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        if value == "":
            raise PydanticUseDefault
        return value


# --- Request bodies that Django forms read --------------------------------------------------
# These only describe the form bodies: the API reads them with request.POST and request.FILES,
# the upload through the studio's own EditForm, so one set of rules holds for both. Their JSON
# Schema is written with each OpenAPI document (api/v1.py), so that it names the models and the
# number of pictures this installation takes at the time.


def _offered_models(schema: dict[str, Any]) -> None:
    schema["enum"] = [*offered_models(), ""]  # empty, as left out: the default


def _max_inputs(schema: dict[str, Any]) -> None:
    schema["maxItems"] = settings.GAITU_MAX_INPUTS


# What the form takes as an instruction: no NUL, and not blank once Python has stripped it. Its
# whitespace is spelled out, as the pattern is read by other engines (ECMA, Rust), whose \s differs.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"
# "<edit id>:<position>" of a result; empty, as left out, for none.
RESULT = r"^([0-9a-fA-F-]{32,36}(:[0-9]+)?)?$"


class NewEdit(Schema):
    image: list[UploadedFile] = Field(
        min_length=1,
        json_schema_extra=_max_inputs,
        description="The pictures to edit (JPEG, PNG, WebP or GIF); repeat the field for more.",
    )
    instruction: str = Field(min_length=1, max_length=4000, pattern=NOT_BLANK)
    model: str | Absent = Field(
        None,
        json_schema_extra=_offered_models,
        description="One of `GET /api/v1/models`; the first of them when left out or empty.",
    )
    parent: Annotated[str, Field(pattern=RESULT)] | Absent = Field(
        None,
        description="Edit one of your results again, named `<edit id>:<position>`; it becomes "
        "the first picture.",
    )


class ShareSettings(Schema):
    # Read as forgivingly as ever (edits._flag): true, 1, yes or on is yes, anything else no.
    show_original: bool = Field(True, description="Show the original beside the result.")
    show_instruction: bool = Field(True, description="Show the instruction.")


FORMS: list[type[Schema]] = [NewEdit, ShareSettings]


def form_body(
    schema: type[Schema], media_type: str, *, required: bool, **encoding: dict[str, str]
) -> dict[str, Any]:
    """An operation's requestBody (its openapi_extra) for a form the view reads itself."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
    if encoding:
        content["encoding"] = encoding
    return {"requestBody": {"required": required, "content": {media_type: content}}}
