"""`GET /healthz`: whether this web process can serve, for container health checks and load
balancers. Anyone may ask: it says only "ok" or that the database does not answer."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.middleware import two_factor_not_required

logger = logging.getLogger(__name__)


@require_safe
@never_cache
@login_not_required
@two_factor_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    # Every page needs the database (sessions, edits), so a process that cannot reach it
    # should get no traffic: 503 tells the balancer so, and the container runtime to restart.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # OperationalError (server gone, refused, timed out) is one of these.
        logger.warning("Health check: the database did not answer: %s", error)
        return JsonResponse({"status": "unavailable", "reason": "database"}, status=503)
    return JsonResponse({"status": "ok"})
