"""The JSON API at /api/v1/, for scripts: django-ninja writes its OpenAPI document
(/api/v1/openapi.json) and its interactive docs (/api/v1/docs) from the code."""

from typing import Any

from django.urls import reverse
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.schema import NinjaGenerateJsonSchema

from webhooks import api as webhooks

from . import account, edits, errors, exports, gateway_models, groups
from .auth import TokenAuth
from .schemas import BODIES


class Docs(Swagger):
    """Swagger UI from our own static files, its scripts carrying the page's CSP nonce."""

    template = "api/docs.html"

    def get_openapi_url(self, api: NinjaAPI, path_params: dict[str, Any]) -> str:
        return reverse("api_openapi", kwargs=path_params)


class GaituAPI(NinjaAPI):
    """ninja's API with its URLs included without a namespace, so that they keep the names the
    rest of the site uses (api_edit, api_edits…)."""

    def get_root_path(self, path_params: dict[str, Any]) -> str:
        return reverse("api_root", kwargs=path_params)

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in document["paths"].values():
            for operation in operations.values():
                for parameter in operation["parameters"]:
                    if parameter["schema"].pop("allowEmptyValue", False):
                        parameter["allowEmptyValue"] = True  # see EMPTY_IS_ABSENT
        # The form bodies the views read themselves (see schemas.py), as they are right now.
        for form in BODIES:
            document["components"]["schemas"][form.__name__] = form.model_json_schema(
                ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
            )
        return document


api = GaituAPI(
    title="Gaitu API",
    version="1",
    description="Edit pictures with AI. Send an API token as `Authorization: Bearer gtu_…`; "
    "create one on the account page or with `manage.py create_api_token USERNAME`.",
    auth=TokenAuth(),
    # No deep links: Swagger UI puts them as links inside each operation's summary button, a
    # control within a control that keyboards and screen readers cannot use.
    docs=Docs(settings={"layout": "BaseLayout", "deepLinking": False, "validatorUrl": None}),
)
errors.install(api)
api.add_router("", edits.router)
api.add_router("", groups.router)
api.add_router("", gateway_models.router)
api.add_router("", account.router)
api.add_router("", exports.router)
api.add_router("", webhooks.router, tags=["webhooks"])
