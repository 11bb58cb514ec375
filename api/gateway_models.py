"""/api/v1/models: the models this installation offers. (Not api/models.py, which Django would
take for the app's database models.)"""

from django.conf import settings
from ninja import Router

from editor.gateways import offered_models

from .auth import TokenRequest
from .schemas import Error, Models

router = Router(tags=["models"])


@router.get(
    "/models",
    response={200: Models, 401: Error},
    operation_id="list_models",
    url_name="api_models",
    summary="The models this installation offers",
    description="The configured ones first; `default` is used when an edit names none.",
)
def list_models(request: TokenRequest) -> Models:
    return Models(models=offered_models(ask_gateway=True), default=settings.GAITU_MODELS[0])
