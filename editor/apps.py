from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Gaitu"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers that delete picture files)
