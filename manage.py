#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (reads the settings, which read the environment)
    except ImproperlyConfigured as error:
        # A variable that cannot be used (or one missing) is said in one sentence that names
        # it, not at the end of a traceback.
        sys.exit(f"Gaitu cannot start: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
