from django.apps import AppConfig


class InstructionsConfig(AppConfig):
    name = "instructions"
    verbose_name = "Instructions"

    def ready(self) -> None:
        # Connected here, not in editor: editor knows nothing of the instructions people keep.
        from . import receivers

        receivers.connect()
