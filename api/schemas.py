"""What the JSON API takes and answers, as pydantic schemas; ninja writes the OpenAPI document
from them. The answers are the ones the API has always given, key for key."""

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from pydantic import PlainSerializer, ValidationError, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict, SkipJsonSchema
from pydantic_core import PydanticUseDefault

from editor.gateways import offered_models
from editor.models import Edit, EditGroup, ResultImage, Share, SourceImage
from editor.search import MAX_QUERY
from gateway.failures import CODES, LINK_REFUSALS
from gateway.options import MAX_RESULTS, MAX_SIDE, MIN_SIDE, RATIOS, RequestOptions

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

# The models' choices, written out where they are used: as components they would be named
# after their classes, and another app's "Status" (an export's, a delivery's) would take the
# same name in the document.
STATUSES: JsonDict = {"type": "string", "enum": list(Edit.Status.values)}
EditStatus = Annotated[Edit.Status, WithJsonSchema(STATUSES)]
EditStage = Annotated[Edit.Stage, WithJsonSchema({"type": "string", "enum": Edit.Stage.values})]
GroupKind = Annotated[
    EditGroup.Kind, WithJsonSchema({"type": "string", "enum": EditGroup.Kind.values})
]

# The picture types the studio's file picker offers; the content decides, never the name.
IMAGE_TYPES = "image/jpeg, image/png, image/webp, image/gif"


def _picture_url(
    context: dict[str, Any], image: SourceImage | ResultImage, kind: str, variant: str = "full"
) -> str:
    """The picture's full-size address (or its mask's); it answers to the same token."""
    return absolute_url(
        context, reverse("media", args=[image.edit_id, kind, image.position, variant])
    )


def absolute_url(context: dict[str, Any], path: str) -> str:
    """An absolute URL, as scripts want them: ninja validates answers with the request at hand."""
    request: HttpRequest = context["request"]
    return request.build_absolute_uri(path)


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in sorted(names))


def _ratios() -> str:
    return ", ".join(f"`{ratio}`" for ratio in RATIOS)


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
    mask: Url | None = Field(
        description="The mask painted on it (a PNG of its size, transparent where the edit "
        "changes it), or null; only the first picture has one."
    )

    @staticmethod
    def resolve_url(image: SourceImage, context: dict[str, Any]) -> str:
        return _picture_url(context, image, "source")

    @staticmethod
    def resolve_mask(image: SourceImage, context: dict[str, Any]) -> str | None:
        return _picture_url(context, image, "source", "mask") if image.mask else None


class Result(Schema):
    url: Url
    width: int
    height: int
    position: int = Field(description="What `POST /edits/{edit_id}/choose` takes to choose it.")
    chosen: bool = Field(
        description="The result that stands for the edit (downloads, sharing, the gallery); "
        "the first unless another was chosen."
    )

    @staticmethod
    def resolve_url(image: ResultImage, context: dict[str, Any]) -> str:
        return _picture_url(context, image, "result")

    @staticmethod
    def resolve_chosen(image: ResultImage) -> bool:
        # The edit is the one the results were prefetched with: no query per result.
        chosen = image.edit.chosen_result
        return chosen is not None and chosen.position == image.position


class Options(Schema):
    size: str = Field(
        description=f"One of {_ratios()}, a pixel size `WIDTHxHEIGHT`, or empty: the model's own."
    )
    n: int = Field(ge=1, le=MAX_RESULTS, description="Results asked for.")
    quality: str = Field(description="`low`, `medium`, `high`, or empty: the model's own.")


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


def failure_of(edit: Edit) -> dict[str, str] | None:
    if not edit.error_code:
        return None
    return {
        "code": edit.error_code,
        "reason": edit.error_reason,
        "message": edit.failure_message,
        "detail": edit.error_detail,
    }


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


class ProviderSwitch(Schema):
    left: str = Field(description="The provider it left.")
    to: str = Field(description="The provider it went to.")
    after: str = Field(description="Why: the HTTP status (`503`), else the failure's code.")


class EditOut(Schema):
    id: UUID
    kind: Literal["edit", "generation"] = Field(
        description="`edit` (of the `sources`), or `generation`: made from the instruction "
        "alone, with no sources."
    )
    status: EditStatus
    stage: EditStage
    progress: int | None = Field(ge=0, le=100)
    error: Failure | None
    instruction: str
    model: str
    options: Options = Field(description="What was asked beyond the instruction.")
    sources: list[Source]
    results: list[Result]
    chosen: int | None = Field(
        description="The `position` of the result that stands for the edit; null with none."
    )
    group: UUID | None = Field(
        description="The batch or comparison it belongs to (`GET /batches/{group_id}` or "
        "`GET /comparisons/{group_id}`), or null."
    )
    share: ShareLink | None
    provider: str = Field(
        description="The provider that served it (`environment`'s host, `demo`, or a name "
        "from the providers page); empty until it has been sent."
    )
    transport: str = Field(
        description="The API it went through: `chat`, `images` or `gemini`. With a mask, only "
        "`images` honours it exactly; the others are shown it as a picture."
    )
    switches: list[ProviderSwitch] = Field(
        description="Each move to the next provider before any output, in order."
    )
    created: Time
    finished: Time | None

    @staticmethod
    def resolve_kind(edit: Edit) -> str:
        return "generation" if edit.is_generation else "edit"

    @staticmethod
    def resolve_options(edit: Edit) -> dict[str, Any]:
        options = RequestOptions.from_json(edit.options)
        return {"size": options.size, "n": options.n, "quality": options.quality}

    @staticmethod
    def resolve_chosen(edit: Edit) -> int | None:
        chosen = edit.chosen_result
        return chosen.position if chosen else None

    @staticmethod
    def resolve_group(edit: Edit) -> UUID | None:
        return edit.group_id

    @staticmethod
    def resolve_error(edit: Edit) -> dict[str, str] | None:
        return failure_of(edit)

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
    status: EditStatus
    url: Url = Field(description="Where to poll the edit (`GET`).")


class ChooseResult(Schema):
    position: int = Field(ge=0, description="The `position` of one of the edit's results.")


# --- Batches and comparisons ---------------------------------------------------------------


class GroupEdit(Schema):
    id: UUID
    status: EditStatus
    model: str
    error: Failure | None
    url: Url = Field(description="The edit itself (`GET /edits/{edit_id}`), with its pictures.")

    @staticmethod
    def resolve_error(edit: Edit) -> dict[str, str] | None:
        return failure_of(edit)

    @staticmethod
    def resolve_url(edit: Edit, context: dict[str, Any]) -> str:
        return absolute_url(context, reverse("api_edit", args=[edit.pk]))


class GroupCounts(Schema):
    queued: int
    running: int
    succeeded: int
    failed: int
    canceled: int


GROUP_ROUTES: dict[str, str] = {
    EditGroup.Kind.BATCH: "api_batch",
    EditGroup.Kind.COMPARISON: "api_comparison",
}


class GroupOut(Schema):
    id: UUID
    kind: GroupKind
    instruction: str
    status: Literal["active", "succeeded", "partial", "failed"] = Field(
        description="`active` while any edit is queued or running; then `succeeded` (all "
        "did), `failed` (none did) or `partial`."
    )
    counts: GroupCounts = Field(description="Its edits by status.")
    edits: list[GroupEdit] = Field(
        description="A batch's in the order of its pictures; a comparison's in the order of "
        "its models."
    )
    winner: UUID | None = Field(
        description="A comparison's winner (`POST /comparisons/{group_id}/winner`); always "
        "null for a batch."
    )
    url: Url = Field(description="Where to poll it (`GET`).")
    created: Time

    @staticmethod
    def resolve_counts(group: EditGroup) -> dict[str, int]:
        counts = dict.fromkeys(Edit.Status.values, 0)
        for edit in group.edits.all():
            counts[edit.status] += 1
        return counts

    @staticmethod
    def resolve_status(group: EditGroup) -> str:
        statuses = [edit.status for edit in group.edits.all()]
        if any(status in Edit.ACTIVE for status in statuses):
            return "active"
        succeeded = statuses.count(Edit.Status.SUCCEEDED)
        if succeeded == len(statuses):
            return "succeeded"
        return "partial" if succeeded else "failed"

    @staticmethod
    def resolve_winner(group: EditGroup) -> UUID | None:
        return group.winner_id

    @staticmethod
    def resolve_url(group: EditGroup, context: dict[str, Any]) -> str:
        return absolute_url(context, reverse(GROUP_ROUTES[group.kind], args=[group.pk]))

    @staticmethod
    def resolve_created(group: EditGroup) -> datetime:
        return group.created_at


class Winner(Schema):
    edit_id: UUID | None = Field(
        description="One of the comparison's edits that succeeded, or null for none."
    )


# --- Models --------------------------------------------------------------------------------


class Models(Schema):
    models: list[str] = Field(description="The configured ones first, then the gateway's.")
    default: str = Field(description="What an edit that names no model uses.")


# --- Query parameters ----------------------------------------------------------------------
# An empty query parameter counts as left out, as a form's blank field does (`?status=&page=`
# lists all from the first page, as the API always has); the document says so with OpenAPI's
# allowEmptyValue, which api/v1.py moves from the parameter's schema onto the parameter.
EMPTY_IS_ABSENT: JsonDict = {"allowEmptyValue": True}


class EditFilters(Schema):
    # Not `| Absent`: a union would name its branch in the error's location.
    status: Annotated[Edit.Status | None, WithJsonSchema(STATUSES)] = Field(
        None, description="Only edits in this status.", json_schema_extra=EMPTY_IS_ABSENT
    )
    page: int = Field(
        1, ge=1, description="20 edits a page, newest first.", json_schema_extra=EMPTY_IS_ABSENT
    )
    q: str = Field(
        "",
        max_length=MAX_QUERY,
        description="Only edits whose instruction holds these words, whatever the case (as the "
        "gallery's search).",
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


def _max_batch(schema: dict[str, Any]) -> None:
    schema["maxItems"] = settings.GAITU_BATCH_MAX


def _models_to_compare(schema: dict[str, Any]) -> None:
    offered = offered_models()
    schema["items"] = {"type": "string", "enum": offered}
    schema["maxItems"] = min(settings.GAITU_COMPARE_MAX, len(offered))
    schema["uniqueItems"] = True  # each model once: the form would count a repeat once


# What the form takes as an instruction: no NUL, and not blank once Python has stripped it. Its
# whitespace is spelled out, as the pattern is read by other engines (ECMA, Rust), whose \s differs.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"
# "<edit id>:<position>" of a result; empty, as left out, for none.
RESULT = r"^([0-9a-fA-F-]{32,36}(:[0-9]+)?)?$"
# A side of a custom size, MIN_SIDE to MAX_SIDE pixels (256 to 4096), spelled out as a pattern
# (test_openapi.py checks it against both bounds).
SIDE = r"(25[6-9]|2[6-9][0-9]|[3-9][0-9]{2}|[1-3][0-9]{3}|40[0-8][0-9]|409[0-6])"
SIZE = rf"^({'|'.join(RATIOS)}|{SIDE}x{SIDE})?$"
IMAGE_URL_MAX_CHARS = 2000


def _link_or_empty(schema: dict[str, Any]) -> None:
    # Empty, as a form's blank field, counts as left out.
    schema["anyOf"] = [{"format": "uri"}, {"const": ""}]


class RequestOptionsFields(Schema):
    """What every way of starting edits takes beyond the instruction (gateway.options)."""

    size: Annotated[str, Field(pattern=SIZE)] | Absent = Field(
        None,
        description=f"An aspect ratio ({_ratios()}) or a pixel size `WIDTHxHEIGHT`, each side "
        f"{MIN_SIDE} to {MAX_SIDE}; left out or empty, the model's own. A model that takes "
        "no size gets it in the prompt.",
    )
    n: Annotated[int, Field(ge=1, le=MAX_RESULTS)] | Absent = Field(
        None,
        description="Results to make, 1 when left out; several are made side by side "
        "where a model makes one at a time.",
    )
    quality: Literal["low", "medium", "high", ""] | Absent = Field(
        None, description="Left out or empty, the model's own; only some models take it."
    )


class NewEdit(RequestOptionsFields):
    image: list[UploadedFile] | Absent = Field(
        None,
        json_schema_extra=_max_inputs,
        description="The pictures to edit (JPEG, PNG, WebP or GIF); repeat the field for more. "
        "None (and no `image_url` or `parent`): a picture is made from the instruction alone.",
    )
    image_url: Annotated[str, Field(max_length=IMAGE_URL_MAX_CHARS)] | Absent = Field(
        None,
        json_schema_extra=_link_or_empty,
        description="A picture on the web to edit, fetched by the server (never from a "
        "private address); after the uploaded ones.",
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
    mask: UploadedFile | Absent = Field(
        None,
        description="The area to change in the first picture: a PNG of exactly its size, "
        "transparent where it should change. The images API honours it; chat and Gemini "
        "models are shown it as a second picture and may not keep to it.",
    )


class NewBatch(RequestOptionsFields):
    image: list[UploadedFile] = Field(
        min_length=1,
        json_schema_extra=_max_batch,
        description="The pictures, each edited on its own (JPEG, PNG, WebP or GIF); repeat "
        "the field for more.",
    )
    image_url: Annotated[str, Field(max_length=IMAGE_URL_MAX_CHARS)] | Absent = Field(
        None, json_schema_extra=_link_or_empty, description="One more picture, from the web."
    )
    instruction: str = Field(min_length=1, max_length=4000, pattern=NOT_BLANK)
    model: str | Absent = Field(
        None,
        json_schema_extra=_offered_models,
        description="One of `GET /api/v1/models`, for every edit of the batch.",
    )


class NewComparison(RequestOptionsFields):
    image: list[UploadedFile] | Absent = Field(
        None,
        json_schema_extra=_max_inputs,
        description="The pictures every model edits; none, and each makes a picture from the "
        "instruction alone.",
    )
    image_url: Annotated[str, Field(max_length=IMAGE_URL_MAX_CHARS)] | Absent = Field(
        None, json_schema_extra=_link_or_empty, description="A picture on the web, too."
    )
    instruction: str = Field(min_length=1, max_length=4000, pattern=NOT_BLANK)
    models: list[str] = Field(
        min_length=2,
        json_schema_extra=_models_to_compare,
        description="The models to compare (of `GET /api/v1/models`), each once; repeat the "
        "field for each.",
    )
    parent: Annotated[str, Field(pattern=RESULT)] | Absent = Field(
        None, description="Start from one of your results, named `<edit id>:<position>`."
    )
    mask: UploadedFile | Absent = Field(
        None,
        description="The area to change in the first picture, as for `POST /edits`; sent to "
        "each model.",
    )


class ShareSettings(Schema):
    # Read as forgivingly as ever (edits._flag): true, 1, yes or on is yes, anything else no.
    show_original: bool = Field(True, description="Show the original beside the result.")
    show_instruction: bool = Field(True, description="Show the instruction.")


# The bodies the views read themselves: the forms, and the JSON bodies read after the view has
# found what the path names (read_json).
BODIES: list[type[Schema]] = [
    NewEdit,
    NewBatch,
    NewComparison,
    ShareSettings,
    ChooseResult,
    Winner,
]


def read_json[Body: Schema](request: HttpRequest, schema: type[Body]) -> Body:
    """The request's JSON body as `schema`, checked as ninja checks a body parameter, with the
    same errors. Read by the view once it has found what the path names, so that a request
    about another person's edit or comparison is a 404 whatever its body."""
    try:
        return schema.model_validate_json(request.body or b"null")
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise HttpError(400, "not JSON") from None  # errors.py says it in the API's words
        located = [{**problem, "loc": ("body", *problem["loc"])} for problem in problems]
        raise NinjaValidationError(located) from None


def json_body(schema: type[Schema]) -> dict[str, Any]:
    """An operation's requestBody (its openapi_extra) for a JSON body the view reads itself."""
    return form_body(schema, "application/json", required=True)


def form_body(
    schema: type[Schema], media_type: str, *, required: bool, **encoding: dict[str, str]
) -> dict[str, Any]:
    """An operation's requestBody (its openapi_extra) for a form the view reads itself."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
    if encoding:
        content["encoding"] = encoding
    return {"requestBody": {"required": required, "content": {media_type: content}}}
