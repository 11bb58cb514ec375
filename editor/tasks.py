"""Background jobs, enqueued through django.tasks (huey runs them in the worker)."""

import logging

from django.tasks import task

from . import pipeline
from .models import Edit
from .reply import FAILURE_CODES

logger = logging.getLogger(__name__)


@task()
def run_edit(edit_id: str) -> None:
    edit = Edit.objects.filter(pk=edit_id).first()
    if edit is None or not edit.start():
        return  # deleted or canceled while it waited, or another worker has it
    try:
        pipeline.perform_edit(edit)
    except Exception:
        logger.exception("edit %s failed unexpectedly", edit_id)
        edit.fail("internal", FAILURE_CODES["internal"])
