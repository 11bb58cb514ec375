"""Reading the environment: one typed reader for every setting, used by gaitu.py alone.

The rules, which deployments rely on:

- Unset, empty and blank all mean "the default": `GAITU_RATE_LIMIT=` in a compose file is the
  same as leaving it out.
- Values are taken as written, surrounding spaces aside (no "$OTHER" lookups).
- A value that does not parse is an ImproperlyConfigured naming the variable, not a bare
  ValueError from somewhere in the settings.
- Booleans are true for 1, true, yes and on, in any case, and false otherwise.
- Numbers are what Python's int() and float() read.
- List items are stripped and empty ones dropped: "a, b,," is ["a", "b"].

django-environ was tried for this; keeping these rules meant overriding its get_value and
parse_value, which left nothing of it in use, so the few lines below are the whole reader.
"""

import builtins
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

# The words that make a boolean variable true; anything else set is false.
TRUE_WORDS = ("1", "true", "yes", "on")
T = TypeVar("T")
_UNSET: Any = object()


class Env:
    """Typed reads of the environment (os.environ at the time of each read).

    The methods are named for the types they read, as settings files spell them
    (env.int("GAITU_RATE_LIMIT", 20)); inside the class the built-in types are
    builtins.*, since those names are taken by the methods.
    """

    def str(self, var: builtins.str, default: builtins.str = _UNSET) -> builtins.str:
        return self._read(var, builtins.str, default)

    def bool(self, var: builtins.str, default: builtins.bool = _UNSET) -> builtins.bool:
        return self._read(var, lambda value: value.lower() in TRUE_WORDS, default)

    def int(self, var: builtins.str, default: builtins.int = _UNSET) -> builtins.int:
        return self._read(var, builtins.int, default)

    def float(self, var: builtins.str, default: builtins.float = _UNSET) -> builtins.float:
        return self._read(var, builtins.float, default)

    def list(
        self, var: builtins.str, default: builtins.list[builtins.str] = _UNSET
    ) -> builtins.list[builtins.str]:
        return self._read(var, _comma_list, default)

    def json_object(self, var: builtins.str) -> dict[builtins.str, Any]:
        """A JSON object (a dict); {} when unset."""
        parsed = self._read(var, json.loads, _UNSET, required=False)
        if parsed is _UNSET:
            return {}
        if not isinstance(parsed, dict):
            raise ImproperlyConfigured(f'{var} must be a JSON object, like {{"key": "value"}}')
        return parsed

    def _read(
        self,
        var: builtins.str,
        cast: Callable[[builtins.str], T],
        default: T,
        *,
        required: builtins.bool = True,
    ) -> T:
        value = os.environ.get(var, "").strip()
        if not value:
            if default is _UNSET and required:
                raise ImproperlyConfigured(f"Set the {var} environment variable.")
            return default
        try:
            return cast(value)
        except ValueError as error:
            raise ImproperlyConfigured(_parse_error(var, value, cast, error)) from None


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _parse_error(var: str, value: str, cast: Callable[[str], object], error: ValueError) -> str:
    if cast is json.loads:
        # The value itself is left out: a JSON body may well hold a credential.
        return f"{var} is not valid JSON: {error}"
    if cast is int:
        return f"{var} must be a whole number, not {value!r}"
    if cast is float:
        return f"{var} must be a number, not {value!r}"
    return f"{var} has a value that cannot be read: {error}"


env = Env()


# --- The test suite's environment ------------------------------------------------------------

# Variables of a developer's own installation that a test run must never see.
DEVELOPER_VARIABLES = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL"}
# The servers of the scale-out test profile (tests/support/scale_profile.py, which starts them
# and sets GAITU_TEST_PROFILE=scale): the one run in which these are kept.
SCALE_TEST_VARIABLES = {
    "GAITU_TEST_PROFILE",
    "SECRET_KEY",
    "DATABASE_URL",
    "GAITU_QUEUE_URL",
    "GAITU_S3_BUCKET",
    "GAITU_S3_ENDPOINT_URL",
    "GAITU_S3_REGION",
    "GAITU_S3_ACCESS_KEY_ID",
    "GAITU_S3_SECRET_ACCESS_KEY",
    "GAITU_S3_ADDRESSING_STYLE",
}


def clean_environment_for_tests() -> None:
    """Never let a developer's real gateway, key or data folder leak into a test run.

    Called by webapp/settings/__init__.py before any setting is read, when the test settings
    are the ones being loaded: Python imports the package before webapp/settings/test.py.
    """
    kept = SCALE_TEST_VARIABLES if os.environ.get("GAITU_TEST_PROFILE") == "scale" else set()
    for name in list(os.environ):
        if (name.startswith("GAITU_") or name in DEVELOPER_VARIABLES) and name not in kept:
            del os.environ[name]
    os.environ["GAITU_DATA_DIR"] = tempfile.mkdtemp(prefix="gaitu-test-")
    os.environ["GAITU_DEMO_LATENCY"] = "0.2"
