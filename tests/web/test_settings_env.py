"""The settings read from the environment: each type's rules (env.py), and what a fresh process
gets from webapp.settings for a given environment (gaitu.py, queue.py, the test settings)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp.settings.env import Env

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_DIR = ROOT / "webapp" / "settings"
NAME = "GAITU_SETTING_UNDER_TEST"


@pytest.fixture
def env(monkeypatch) -> Env:
    monkeypatch.delenv(NAME, raising=False)
    return Env()


def given(monkeypatch, value: str) -> None:
    monkeypatch.setenv(NAME, value)


# --- One variable, read by type (env.py) -----------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_unset_empty_and_blank_mean_the_default(env, monkeypatch, value):
    if value is not None:
        given(monkeypatch, value)
    assert env.str(NAME, "fallback") == "fallback"
    assert env.str(NAME, "") == ""
    assert env.bool(NAME, True) is True
    assert env.bool(NAME, False) is False
    assert env.int(NAME, 20) == 20
    assert env.float(NAME, 1.5) == 1.5
    assert env.list(NAME, default=["a"]) == ["a"]
    assert env.json_object(NAME) == {}


def test_a_variable_without_a_default_must_be_set(env):
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env.str(NAME)


def test_strings_are_stripped_and_otherwise_taken_as_written(env, monkeypatch):
    given(monkeypatch, "  sk-abc  ")
    assert env.str(NAME, "") == "sk-abc"
    # Not a reference to $HOME: values are taken as written.
    given(monkeypatch, "$HOME")
    assert env.str(NAME, "") == "$HOME"


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", " yes ", "On"])
def test_true_is_1_true_yes_or_on(env, monkeypatch, value):
    given(monkeypatch, value)
    assert env.bool(NAME, False) is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "2", "-1", "ok", "y", "enabled"])
def test_every_other_boolean_is_false(env, monkeypatch, value):
    given(monkeypatch, value)
    assert env.bool(NAME, True) is False


@pytest.mark.parametrize(("value", "number"), [("42", 42), (" 7 ", 7), ("-1", -1), ("+9", 9)])
def test_integers(env, monkeypatch, value, number):
    given(monkeypatch, value)
    assert env.int(NAME, 0) == number


@pytest.mark.parametrize("value", ["abc", "1.5", "12 mb", "0x10"])
def test_a_bad_integer_names_the_variable(env, monkeypatch, value):
    given(monkeypatch, value)
    with pytest.raises(ImproperlyConfigured) as raised:
        env.int(NAME, 0)
    assert str(raised.value) == f"{NAME} must be a whole number, not {value!r}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(("value", "number"), [("1.5", 1.5), ("3", 3.0), ("1e2", 100.0)])
def test_numbers(env, monkeypatch, value, number):
    given(monkeypatch, value)
    assert env.float(NAME, 0.0) == number


@pytest.mark.parametrize("value", ["12s", "1,5", "fast"])
def test_a_bad_number_names_the_variable(env, monkeypatch, value):
    given(monkeypatch, value)
    with pytest.raises(ImproperlyConfigured, match=f"^{NAME} must be a number, not "):
        env.float(NAME, 0.0)


@pytest.mark.parametrize(
    ("value", "items"),
    [("a", ["a"]), ("a,b", ["a", "b"]), (" a , b ,, c ", ["a", "b", "c"]), (",", [])],
)
def test_lists_are_comma_separated_and_stripped(env, monkeypatch, value, items):
    given(monkeypatch, value)
    assert env.list(NAME, default=["default"]) == items


def test_a_json_object(env, monkeypatch):
    given(monkeypatch, ' {"modalities": ["image", "text"], "n": 1} ')
    assert env.json_object(NAME) == {"modalities": ["image", "text"], "n": 1}


def test_bad_json_says_so(env, monkeypatch):
    given(monkeypatch, '{"api_key": "sk-secret"')
    with pytest.raises(ImproperlyConfigured, match=f"^{NAME} is not valid JSON: ") as raised:
        env.json_object(NAME)
    assert "sk-secret" not in str(raised.value)  # a JSON body may hold a credential


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "3", "null", "true"])
def test_json_that_is_not_an_object_says_so(env, monkeypatch, value):
    given(monkeypatch, value)
    with pytest.raises(ImproperlyConfigured, match=f"^{NAME} must be a JSON object"):
        env.json_object(NAME)


def test_only_gaitu_py_reads_the_environment():
    """The one place to look: the other parts get their values from gaitu.py."""
    for part in ("base.py", "security.py", "queue.py", "scale.py"):
        source = (SETTINGS_DIR / part).read_text()
        for reading in ("os.environ", "getenv", "env.", "import env"):
            assert reading not in source, f"{part} reads the environment ({reading})"


# --- What a fresh process gets from webapp.settings ------------------------------------------

DEVELOPER_NAMES = {
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "TIME_ZONE", "DATABASE_URL",
}  # fmt: skip


def fresh_environment(
    data_dir: Path, module: str = "webapp.settings", **variables: str
) -> dict[str, str]:
    """A process's environment with only these of Gaitu's variables set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GAITU_")
        and name not in DEVELOPER_NAMES | {"DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE=module, GAITU_DATA_DIR=str(data_dir), **variables)
    return env


def settings_process(
    data_dir: Path, module: str = "webapp.settings", **variables: str
) -> subprocess.CompletedProcess:
    """Import the settings module in a fresh process with only these variables set, and
    print every setting as JSON."""
    env = fresh_environment(data_dir, module, **variables)
    code = (
        "import importlib, json, sys\n"
        f"module = importlib.import_module({module!r})\n"
        "names = [name for name in dir(module) if name.isupper() and name != 'LANGUAGES']\n"
        "print(json.dumps({name: getattr(module, name) for name in names}, default=str))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_for(data_dir: Path, **variables: str) -> dict:
    done = settings_process(data_dir, **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def failure_for(data_dir: Path, **variables: str) -> str:
    """The last line of the traceback: the exception and its message."""
    done = settings_process(data_dir, **variables)
    assert done.returncode != 0, done.stdout
    return done.stderr.strip().splitlines()[-1]


def test_the_defaults_of_a_fresh_installation(tmp_path):
    settings = settings_for(tmp_path)
    gaitu = {name: value for name, value in settings.items() if name.startswith("GAITU_")}
    assert gaitu == {
        "GAITU_S3_BUCKET": "",
        "GAITU_S3_ENDPOINT_URL": "",
        "GAITU_S3_REGION": "",
        "GAITU_S3_ACCESS_KEY_ID": "",
        "GAITU_S3_SECRET_ACCESS_KEY": "",
        "GAITU_S3_ADDRESSING_STYLE": "",
        "GAITU_API_BASE": "",
        "GAITU_API_KEY": "",
        "GAITU_DEMO": True,
        "GAITU_MODELS": ["gpt-4o-image", "gpt-image-1", "gemini-2.5-flash-image"],
        "GAITU_STREAM": True,
        "GAITU_MAX_TOKENS": None,
        "GAITU_IMAGE_DETAIL": "high",
        "GAITU_EXTRA_BODY": {},
        "GAITU_MODEL_OPTIONS": {},
        "GAITU_TRANSPORT": "auto",
        "GAITU_MODEL_TRANSPORTS": {},
        "GAITU_PROVIDER_KEYS": [],
        "GAITU_SEND_MAX_SIDE": 2048,
        "GAITU_CONNECT_TIMEOUT": 15.0,
        "GAITU_READ_TIMEOUT": 120.0,
        "GAITU_TOTAL_TIMEOUT": 600.0,
        "GAITU_MAX_ATTEMPTS": 3,
        "GAITU_DEMO_LATENCY": 3.0,
        "GAITU_UPLOAD_MAX_MB": 20,
        "GAITU_MAX_INPUTS": 4,
        "GAITU_BATCH_MAX": 20,
        "GAITU_COMPARE_MAX": 4,
        "GAITU_MAX_PIXELS": 50_000_000,
        "GAITU_RESULT_MAX_MB": 40,
        "GAITU_FETCH_ALLOW_HOSTS": [],
        "GAITU_SIGNUP": False,
        "GAITU_DAILY_LIMIT": 0,
        "GAITU_RATE_LIMIT": 20,
        "GAITU_MAX_ACTIVE_PER_USER": 4,
        "GAITU_STORAGE_QUOTA_MB": 0,
        "GAITU_REQUIRE_2FA": False,
        "GAITU_TRUSTED_PROXIES": [],
        "GAITU_MAX_CONNECTIONS_PER_ADDRESS": 64,
        "GAITU_HEADER_TIMEOUT": 10.0,
        "GAITU_BODY_TIMEOUT": 30.0,
        "GAITU_KEEP_ALIVE_TIMEOUT": 30.0,
        "GAITU_MIN_FREE_MB": 500,
        "GAITU_WORKER_THREADS": 256,
        "GAITU_QUEUE_URL": "",
        "GAITU_HEARTBEAT_TIMEOUT": 120.0,
        "GAITU_SCALE_OUT": False,
        "GAITU_WEB_PROCESSES": os.cpu_count(),  # one per core, on this profile too
        "GAITU_HTTPS": False,
        "GAITU_HSTS_PRELOAD": False,
        "GAITU_SSL_REDIRECT": True,
    }
    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == []
    assert settings["TIME_ZONE"] == "UTC"
    assert settings["DATA_DIR"] == str(tmp_path.resolve())
    assert settings["DATA_UPLOAD_MAX_NUMBER_FILES"] == 21  # a batch of 20, and a margin
    assert settings["HUEY"]["huey_class"] == "worker.queue.NudgedSqliteHuey"
    assert settings["HUEY"]["filename"] == str(tmp_path.resolve() / "queue.sqlite3")
    assert settings["HUEY"]["consumer"]["workers"] == 256


def test_empty_values_mean_the_defaults(tmp_path):
    blank = dict.fromkeys(("GAITU_API_KEY", "GAITU_MODELS", "GAITU_RATE_LIMIT"), "")
    blank.update(GAITU_STREAM=" ", GAITU_EXTRA_BODY="", GAITU_QUEUE_URL="", DEBUG="")
    assert settings_for(tmp_path, **blank) == settings_for(tmp_path)


def test_a_configured_installation(tmp_path):
    settings = settings_for(
        tmp_path,
        GAITU_API_BASE=" https://gateway.example/v1 ",
        GAITU_API_KEY="sk-abc",
        GAITU_MODELS="gpt-4o-image, gemini-2.5-flash-image",
        GAITU_STREAM="0",
        GAITU_MAX_TOKENS="512",
        GAITU_EXTRA_BODY='{"modalities": ["image", "text"]}',
        GAITU_READ_TIMEOUT="30.5",
        GAITU_MAX_INPUTS="2",
        GAITU_SIGNUP="OPEN",
        GAITU_RATE_LIMIT="0",
        GAITU_WORKER_THREADS="3",
        GAITU_STORAGE_QUOTA_MB="2048",
        GAITU_MIN_FREE_MB="0",
        GAITU_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1",
        GAITU_MAX_CONNECTIONS_PER_ADDRESS="200",
        GAITU_HEADER_TIMEOUT="2.5",
        GAITU_BODY_TIMEOUT="60",
        GAITU_KEEP_ALIVE_TIMEOUT="5",
        DEBUG="yes",
        ALLOWED_HOSTS="gaitu.example.com, localhost",
        CSRF_TRUSTED_ORIGINS="https://gaitu.example.com",
        TIME_ZONE="Europe/Paris",
    )
    assert settings["GAITU_API_BASE"] == "https://gateway.example/v1"
    assert settings["GAITU_API_KEY"] == "sk-abc"
    assert settings["GAITU_DEMO"] is False
    assert settings["GAITU_MODELS"] == ["gpt-4o-image", "gemini-2.5-flash-image"]
    assert settings["GAITU_STREAM"] is False
    assert settings["GAITU_MAX_TOKENS"] == 512
    assert settings["GAITU_EXTRA_BODY"] == {"modalities": ["image", "text"]}
    assert settings["GAITU_READ_TIMEOUT"] == 30.5
    assert settings["GAITU_MAX_INPUTS"] == 2
    assert settings["DATA_UPLOAD_MAX_NUMBER_FILES"] == 21
    assert settings["GAITU_SIGNUP"] is True
    assert settings["GAITU_RATE_LIMIT"] == 0
    assert settings["HUEY"]["consumer"]["workers"] == 3
    assert settings["GAITU_STORAGE_QUOTA_MB"] == 2048
    assert settings["GAITU_MIN_FREE_MB"] == 0
    assert settings["GAITU_TRUSTED_PROXIES"] == ["10.0.0.0/8", "127.0.0.1"]
    assert settings["GAITU_MAX_CONNECTIONS_PER_ADDRESS"] == 200
    assert settings["GAITU_HEADER_TIMEOUT"] == 2.5
    assert settings["GAITU_BODY_TIMEOUT"] == 60.0
    assert settings["GAITU_KEEP_ALIVE_TIMEOUT"] == 5.0
    assert settings["DEBUG"] is True
    assert settings["ALLOWED_HOSTS"] == ["gaitu.example.com", "localhost"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://gaitu.example.com"]
    assert settings["TIME_ZONE"] == "Europe/Paris"


def test_floors_and_words(tmp_path):
    settings = settings_for(
        tmp_path,
        GAITU_MAX_ATTEMPTS="0",
        GAITU_MAX_ACTIVE_PER_USER="-3",
        GAITU_SIGNUP="opened",
        GAITU_STORAGE_QUOTA_MB="-1",
        GAITU_MIN_FREE_MB="-5",
        GAITU_MAX_CONNECTIONS_PER_ADDRESS="0",
    )
    assert settings["GAITU_MAX_ATTEMPTS"] == 1
    assert settings["GAITU_MAX_ACTIVE_PER_USER"] == 1
    assert settings["GAITU_SIGNUP"] is False  # only "open" opens it
    assert settings["GAITU_STORAGE_QUOTA_MB"] == settings["GAITU_MIN_FREE_MB"] == 0
    assert settings["GAITU_MAX_CONNECTIONS_PER_ADDRESS"] == 1


def test_a_bad_integer_stops_the_settings_with_its_name(tmp_path):
    line = failure_for(tmp_path, GAITU_RATE_LIMIT="abc")
    assert line == (
        "django.core.exceptions.ImproperlyConfigured: "
        "GAITU_RATE_LIMIT must be a whole number, not 'abc'"
    )


def test_bad_extra_body_stops_the_settings(tmp_path):
    line = failure_for(tmp_path, GAITU_EXTRA_BODY="{modalities: image}")
    assert line.startswith(
        "django.core.exceptions.ImproperlyConfigured: GAITU_EXTRA_BODY is not valid JSON: "
    )
    line = failure_for(tmp_path, GAITU_EXTRA_BODY='["image", "text"]')
    assert line == (
        "django.core.exceptions.ImproperlyConfigured: "
        'GAITU_EXTRA_BODY must be a JSON object, like {"key": "value"}'
    )


def test_the_secret_key_is_generated_once_into_the_data_folder(tmp_path):
    first = settings_for(tmp_path)["SECRET_KEY"]
    assert len(first) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert settings_for(tmp_path)["SECRET_KEY"] == first
    chosen = "k3Y-" + "x7Qm9vPz2LrT8wN4bJcF6hD1sA5gE0uYiO3tKqWnZ" + "-Hj2Vb8Nd4Rf"
    assert settings_for(tmp_path, SECRET_KEY=chosen)["SECRET_KEY"] == chosen


def test_the_test_settings_forget_the_developers_environment(tmp_path):
    """A developer's own gateway, key and data folder, and even a broken value, never reach
    the test settings: the environment is cleaned before anything is read."""
    own_data = tmp_path / "my-real-data"
    done = settings_process(
        own_data,
        module="webapp.settings.test",
        GAITU_API_KEY="sk-my-real-key",
        GAITU_RATE_LIMIT="abc",
        SECRET_KEY="my-real-secret",
        DEBUG="1",
    )
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)
    assert settings["GAITU_API_KEY"] == ""
    assert settings["GAITU_DEMO"] is True
    assert settings["GAITU_RATE_LIMIT"] == 20
    assert settings["GAITU_DEMO_LATENCY"] == 0.2
    assert settings["GAITU_MAX_ATTEMPTS"] == 1
    assert settings["SECRET_KEY"] != "my-real-secret"
    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == ["*"]
    assert Path(settings["DATA_DIR"]).name.startswith("gaitu-test-")
    assert settings["HUEY"]["immediate"] is True
    assert not own_data.exists()


def test_the_test_settings_refuse_to_load_another_way(tmp_path):
    code = "import os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'webapp.settings'\n"
    code += "import webapp.settings.test\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "GAITU_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "DJANGO_SETTINGS_MODULE=webapp.settings.test" in done.stderr.strip().splitlines()[-1]
