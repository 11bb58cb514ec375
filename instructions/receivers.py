"""A person's instructions are remembered as they make edits, from wherever they make them
(the studio, the API, again from a result)."""

from typing import Any

from django.db.models.signals import post_save

from editor.models import Edit

from . import services


def remember_instruction(sender: type[Edit], instance: Edit, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):  # raw: loaded from a fixture, not made by anyone
        return
    # A batch or a comparison is one use of its instruction, however many edits it makes.
    if instance.group_id is not None and (
        Edit.objects.filter(group_id=instance.group_id).exclude(pk=instance.pk).exists()
    ):
        return
    services.record_use(instance.owner, instance.instruction, when=instance.created_at)


def connect() -> None:
    post_save.connect(remember_instruction, sender=Edit, dispatch_uid="instructions.remember")
