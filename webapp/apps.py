from django.apps import AppConfig


class WebappConfig(AppConfig):
    """The project's own commands: serve (web and worker), the demo gateway, inspect_reply."""

    name = "webapp"
    verbose_name = "Gaitu (site)"
