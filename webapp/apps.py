from django.apps import AppConfig


class WebappConfig(AppConfig):
    """The project's own commands: serve (web and worker), the demo gateway, inspect_reply;
    and the system checks of the web server's settings."""

    name = "webapp"
    verbose_name = "Gaitu (site)"

    def ready(self) -> None:
        from webapp import checks  # noqa: F401  (registers them)
