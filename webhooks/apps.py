from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from editor.events import edit_ended, group_ended

        from . import receivers

        edit_ended.connect(receivers.edit_ended, dispatch_uid="webhooks.edit_ended")
        group_ended.connect(receivers.group_ended, dispatch_uid="webhooks.group_ended")
