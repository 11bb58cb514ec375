from django.conf import settings
from django.http import HttpRequest


def gaitu(request: HttpRequest) -> dict:
    return {
        "demo_mode": settings.GAITU_DEMO,
        "upload_max_mb": settings.GAITU_UPLOAD_MAX_MB,
        "max_attempts": settings.GAITU_MAX_ATTEMPTS,
        "max_inputs": settings.GAITU_MAX_INPUTS,
        # A batch takes more pictures than one edit: the studio's drop zone follows the mode.
        "batch_max": settings.GAITU_BATCH_MAX,
        "compare_max": settings.GAITU_COMPARE_MAX,
        "upload_max_bytes": settings.GAITU_UPLOAD_MAX_MB * 2**20,
    }
