"""The files a person deploys with (Dockerfile, compose.yaml, deploy/), read as data: they name
services, variables and commands that exist, and agree with each other and with the code.

No Docker engine is needed: compose.yaml is read with PyYAML. Where `docker compose` works it
checks the file too, and `systemd-analyze verify` the units where it is installed.
"""

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from tests.support.deploy_files import DOCKERFILE, dockerfile_instruction, healthcheck_command
from webapp import supervisor
from webapp.health import healthz

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
SHARED_ENV: dict[str, str] = COMPOSE["x-gaitu-env"]
UNITS = {path.stem: path.read_text() for path in (ROOT / "deploy/systemd").glob("*.service")}
ENV_EXAMPLE = (ROOT / "deploy/gaitu.env.example").read_text()
# Where Gaitu reads its variables: the settings, and `serve` its HOST and PORT.
SETTINGS_TEXT = (ROOT / "webapp/settings/gaitu.py").read_text()
SERVE_TEXT = (ROOT / "webapp/management/commands/serve.py").read_text()
# What the web and worker processes must share to be one installation.
SHARED_BY_ALL = ["DATABASE_URL", "GAITU_QUEUE_URL", "SECRET_KEY"] + [
    name for name in SHARED_ENV if name.startswith("GAITU_S3_")
]


# --- Reading the files -----------------------------------------------------------------------


def unit_settings(unit: str) -> dict[str, list[str]]:
    """A unit file's Key=value lines (a key may repeat, as ExecStartPre does)."""
    found: dict[str, list[str]] = {}
    for line in UNITS[unit].splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def env_example_names() -> set[str]:
    return {line.partition("=")[0] for line in ENV_EXAMPLE.splitlines() if re.match(r"[A-Z]", line)}


def manage_py_command(argv: list[str]) -> str | None:
    """The management command a command line runs, if it runs manage.py."""
    return argv[argv.index("manage.py") + 1] if "manage.py" in argv else None


def command_lines() -> dict[str, list[str]]:
    """Every command line the deploy files run, by where it is written."""
    lines = {"Dockerfile CMD": json.loads(dockerfile_instruction("CMD"))}
    for name, service in SERVICES.items():
        if isinstance(service.get("command"), list):
            lines[f"compose {name}"] = service["command"]
        test = service.get("healthcheck", {}).get("test")
        if test:
            lines[f"compose {name} healthcheck"] = test
    for unit in UNITS:
        for key in ("ExecStartPre", "ExecStart"):
            for i, value in enumerate(unit_settings(unit).get(key, [])):
                lines[f"{unit} {key} {i}"] = shlex.split(value)
    return lines


def built_here(service: dict) -> bool:
    return service.get("build") == "."


def one_shot(name: str) -> bool:
    """A service others wait on to have finished (the migration, the bucket)."""
    return any(
        isinstance(service.get("depends_on"), dict)
        and service["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"
        for service in SERVICES.values()
    )


def has_health_check(service: dict) -> bool:
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable") and bool(check.get("test"))
    # A service built from the Dockerfile without a check of its own runs the image's.
    return built_here(service) and "\nHEALTHCHECK " in DOCKERFILE


def interpolate(value, variables: dict[str, str]):
    """compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, in every string of a value."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, operator, word = match.group("name", "operator", "word")
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise LookupError(word)
        return word if operator == ":-" else ""

    done = re.sub(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<operator>:-|:\?)(?P<word>[^}]*))?\}", one, value)
    assert "$" not in done, f"an expression this reading does not know: {value}"
    return done


SECRETS = {
    "SECRET_KEY": "test-key",
    "POSTGRES_PASSWORD": "test1234",
    "GAITU_S3_SECRET_ACCESS_KEY": "test12345678",
}


# compose.yaml's services as compose makes them with the three secrets in .env.
RESOLVED: dict[str, dict] = interpolate(SERVICES, SECRETS)
RESOLVED_ENV: dict[str, str] = RESOLVED["web"]["environment"]


# --- compose.yaml ----------------------------------------------------------------------------


def test_the_services_are_the_ones_described():
    assert set(SERVICES) == {"web", "worker", "migrate", "postgres", "redis", "s3", "createbucket"}


def test_every_dependency_is_a_service():
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on {needed}, which is no service"
            assert needed != name


def test_a_service_waited_on_to_be_healthy_has_a_health_check():
    for name, service in SERVICES.items():
        for needed, how in service.get("depends_on", {}).items():
            if how.get("condition") == "service_healthy":
                assert has_health_check(SERVICES[needed]), f"{name} waits on {needed}"


def test_each_long_running_service_has_a_health_check_and_restarts():
    long_running = [name for name in SERVICES if not one_shot(name)]
    assert set(long_running) == {"web", "worker", "postgres", "redis", "s3"}
    for name in long_running:
        assert has_health_check(SERVICES[name]), name
        assert SERVICES[name].get("restart") == "unless-stopped", name


def test_one_shot_services_run_once():
    for name in ("migrate", "createbucket"):
        assert one_shot(name)
        assert SERVICES[name].get("restart") == "no", name
        # The image's web health check would only mark a finished job unhealthy.
        if built_here(SERVICES[name]):
            assert SERVICES[name]["healthcheck"] == {"disable": True}


def test_the_web_and_worker_wait_for_the_schema_and_the_bucket():
    for name in ("web", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["createbucket"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["createbucket"]["depends_on"]["s3"]["condition"] == "service_healthy"


def test_web_worker_and_migrate_share_one_installation():
    web, worker, migrate = (SERVICES[name]["environment"] for name in ("web", "worker", "migrate"))
    assert {"DATABASE_URL", "GAITU_QUEUE_URL", "GAITU_S3_BUCKET", "SECRET_KEY"} <= set(SHARED_ENV)
    for name in SHARED_BY_ALL:
        assert web[name] == worker[name] == migrate[name] == SHARED_ENV[name], name
    assert web["GAITU_WEB_PROCESSES"] == "2"
    # The secret has no default: compose refuses to start without it.
    assert SHARED_ENV["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY in .env}"


def test_every_shared_variable_is_one_gaitu_reads():
    unread = [name for name in SHARED_ENV if f'"{name}"' not in SETTINGS_TEXT]
    assert unread == [], "not read by webapp/settings/gaitu.py"


def test_the_addresses_name_the_services_that_answer_them():
    database = urlsplit(RESOLVED_ENV["DATABASE_URL"])
    assert (database.scheme, database.hostname, database.port) == ("postgres", "postgres", 5432)
    queue = urlsplit(RESOLVED_ENV["GAITU_QUEUE_URL"])
    assert (queue.scheme, queue.hostname, queue.port) == ("redis", "redis", 6379)
    store = urlsplit(RESOLVED_ENV["GAITU_S3_ENDPOINT_URL"])
    assert (store.scheme, store.hostname, store.port) == ("http", "s3", 9000)
    assert SERVICES["s3"]["command"] == ["server", "/data"]
    assert RESOLVED_ENV["GAITU_S3_ADDRESSING_STYLE"] == "path"


def test_the_database_and_the_store_know_the_credentials_gaitu_uses():
    database = urlsplit(RESOLVED_ENV["DATABASE_URL"])
    postgres = RESOLVED["postgres"]["environment"]
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    minio = RESOLVED["s3"]["environment"]
    assert minio["MINIO_ROOT_USER"] == RESOLVED_ENV["GAITU_S3_ACCESS_KEY_ID"]
    assert minio["MINIO_ROOT_PASSWORD"] == RESOLVED_ENV["GAITU_S3_SECRET_ACCESS_KEY"]


def test_the_bucket_made_is_the_bucket_used():
    maker = RESOLVED["createbucket"]
    assert maker["command"] == ["mb", "--ignore-existing", f"s3/{RESOLVED_ENV['GAITU_S3_BUCKET']}"]
    # mc reads the alias "s3" from MC_HOST_s3: http://key:secret@host:port
    store = urlsplit(maker["environment"]["MC_HOST_s3"])
    assert store.username == RESOLVED_ENV["GAITU_S3_ACCESS_KEY_ID"]
    assert store.password == RESOLVED_ENV["GAITU_S3_SECRET_ACCESS_KEY"]
    assert (
        f"{store.scheme}://{store.hostname}:{store.port}" == RESOLVED_ENV["GAITU_S3_ENDPOINT_URL"]
    )


def test_services_stop_as_the_supervisor_stops_them():
    # Given time to finish what they are doing, as under `make run`.
    assert SERVICES["worker"]["stop_signal"] == supervisor.STOP_SIGNALS["worker"].name
    for name in ("web", "worker"):
        grace = SERVICES[name]["stop_grace_period"]
        assert grace.endswith("s") and int(grace[:-1]) > supervisor.GRACE_SECONDS, name


def test_the_worker_is_checked_by_worker_alive():
    assert SERVICES["worker"]["healthcheck"]["test"] == [
        "CMD", "python", "manage.py", "worker_alive",
    ]  # fmt: skip


def test_with_the_three_secrets_set_every_service_gets_its_values(tmp_path):
    """Read as compose reads it, and compared with `docker compose config` where it works."""
    resolved = RESOLVED
    web, worker = resolved["web"]["environment"], resolved["worker"]["environment"]
    assert web["SECRET_KEY"] == worker["SECRET_KEY"] == "test-key"
    assert web["DATABASE_URL"] == "postgres://gaitu:test1234@postgres:5432/gaitu"
    assert web["ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    assert web["GAITU_API_KEY"] == ""  # unset: the demo gateway
    assert resolved["createbucket"]["command"][-1] == "s3/gaitu"
    assert resolved["s3"]["environment"]["MINIO_ROOT_PASSWORD"] == "test12345678"
    assert (
        interpolate(SERVICES, {**SECRETS, "GAITU_API_KEY": "sk-1"})["web"]["environment"][
            "GAITU_API_KEY"
        ]
        == "sk-1"
    )
    for name in SECRETS:
        with pytest.raises(LookupError, match=f"set {name} in .env"):
            interpolate(SERVICES, {key: value for key, value in SECRETS.items() if key != name})

    docker = shutil.which("docker")
    version = docker and subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False
    )
    if not version or version.returncode != 0:
        return  # no compose plugin on this machine: the reading above is the check
    done = subprocess.run(
        [docker, "compose", "--file", str(ROOT / "compose.yaml"), "config", "--format", "json"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **SECRETS}, check=False,
        cwd=tmp_path,  # away from any .env of the developer's
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    by_compose = json.loads(done.stdout)["services"]
    for name in ("web", "worker", "migrate"):
        assert by_compose[name]["environment"] == resolved[name]["environment"], name
    missing = subprocess.run(
        [docker, "compose", "--file", str(ROOT / "compose.yaml"), "config"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert missing.returncode != 0
    assert "in .env" in missing.stderr


# --- Commands --------------------------------------------------------------------------------


def test_every_command_line_runs_a_real_management_command():
    # get_commands() finds them where Django does: management/commands/ of the installed apps
    # (Gaitu's own and Django's, such as migrate).
    known = get_commands()
    lines = command_lines()
    ran = {where: manage_py_command(argv) for where, argv in lines.items()}
    assert ran["Dockerfile CMD"] == "serve"
    assert ran["compose worker"] == "run_worker"
    assert ran["compose worker healthcheck"] == "worker_alive"
    assert ran["gaitu-web ExecStart 0"] == "serve"
    assert ran["gaitu-worker ExecStart 0"] == "run_worker"
    for where, command in ran.items():
        if command is not None:
            assert command in known, f"{where}: {command} is no management command"
    for name in ("serve", "run_worker", "worker_alive"):
        assert list(ROOT.glob(f"*/management/commands/{name}.py")), name


def test_the_web_runs_without_its_worker_everywhere():
    lines = command_lines()
    for where in ("Dockerfile CMD", "compose web", "gaitu-web ExecStart 0"):
        assert lines[where][-3:] == ["manage.py", "serve", "--no-worker"], where


# --- Dockerfile ------------------------------------------------------------------------------


def test_the_image_is_built_as_described():
    assert dockerfile_instruction("FROM") == "python:3.13-slim"
    assert dockerfile_instruction("EXPOSE") == "8000"
    assert dockerfile_instruction("USER") == "gaitu"
    assert "pip install -r requirements.txt -r requirements-scale.txt" in DOCKERFILE
    assert (ROOT / "requirements-scale.txt").exists()
    runtime_env = [line for line in DOCKERFILE.splitlines() if line.startswith("ENV ")]
    assert "ENV HOST=0.0.0.0 PORT=8000 GAITU_DATA_DIR=/data" in runtime_env


def test_the_build_key_is_not_kept_in_the_image():
    # ARG values do not reach the containers; an ENV would sign every installation's sessions
    # with a key anyone can read in this file.
    assert not [line for line in DOCKERFILE.splitlines() if "SECRET_KEY" in line and "ENV" in line]
    assert "ARG SECRET_KEY=" in DOCKERFILE
    assert 'RUN SECRET_KEY="$SECRET_KEY" python manage.py collectstatic' in DOCKERFILE
    # Built as the user that runs it, after USER, so that the files are its own.
    assert DOCKERFILE.index("USER gaitu") < DOCKERFILE.index("collectstatic")


def test_the_image_health_check_asks_healthz():
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "http://127.0.0.1:%s/healthz" in command[2]
    assert "os.environ.get('PORT', '8000')" in command[2]
    assert resolve("/healthz").func is healthz
    # tests/e2e/test_health_probes.py runs this command against a real server.


def test_the_build_leaves_out_local_state_and_secrets():
    ignored = {line for line in (ROOT / ".dockerignore").read_text().splitlines() if line}
    assert {".venv", "data", "node_modules", ".git", "bench/out", ".env"} <= ignored
    assert {"**/__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"} <= ignored


# --- systemd units and their environment file ------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "role"), [("gaitu-web", "web"), ("gaitu-worker", "worker")]
)  # fmt: skip
def test_units_run_as_gaitu_with_the_shared_environment(unit, role):
    settings = unit_settings(unit)
    assert settings["EnvironmentFile"] == ["/etc/gaitu/gaitu.env"]
    assert settings["User"] == ["gaitu"]
    assert settings["WorkingDirectory"] == ["/opt/gaitu"]
    assert settings["Restart"] == ["on-failure"]
    # Stopped as the supervisor stops them, so that requests and running edits finish.
    assert settings["KillSignal"] == [supervisor.STOP_SIGNALS[role].name]
    assert settings["KillMode"] == ["mixed"]  # the signal to the main process only
    assert int(settings["TimeoutStopSec"][0]) > supervisor.GRACE_SECONDS
    for value in settings["ExecStart"] + settings.get("ExecStartPre", []):
        assert value.startswith("/opt/gaitu/.venv/bin/python manage.py "), value


def test_the_web_unit_migrates_before_it_serves():
    pre = [
        manage_py_command(shlex.split(value))
        for value in unit_settings("gaitu-web")["ExecStartPre"]
    ]
    assert pre == ["migrate", "collectstatic"]
    assert "ExecStartPre" not in unit_settings("gaitu-worker")
    assert int(unit_settings("gaitu-worker")["TimeoutStopSec"][0]) == 30


# The keys these units use, by section (systemd.unit, systemd.service, systemd.exec,
# systemd.kill): a misspelt one is ignored by systemd with a warning nobody reads.
UNIT_KEYS = {
    "Unit": {"Description", "After", "Wants"},
    "Service": {
        "Type", "User", "Group", "WorkingDirectory", "Environment", "EnvironmentFile",
        "StateDirectory", "ExecStartPre", "ExecStart", "KillSignal", "KillMode",
        "TimeoutStopSec", "Restart", "RestartSec", "NoNewPrivileges", "PrivateTmp",
        "ProtectSystem", "ProtectHome",
    },
    "Install": {"WantedBy"},
}  # fmt: skip


@pytest.mark.parametrize("unit", ["gaitu-web", "gaitu-worker"])
def test_unit_files_are_well_formed(unit, tmp_path):
    """Sections and keys read off the file; systemd-analyze verify too where it is installed."""
    section = None
    for line in UNITS[unit].splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            assert section in UNIT_KEYS, line
        elif line and not line.startswith("#"):
            key, equals, value = line.partition("=")
            assert section and equals and value, line
            assert key in UNIT_KEYS[section], f"[{section}] {key}"

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the reading above is the check
    # A root of its own, so that the commands and the environment file exist as on a server.
    (tmp_path / "opt/gaitu/.venv/bin").mkdir(parents=True)
    python = tmp_path / "opt/gaitu/.venv/bin/python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    (tmp_path / "etc/gaitu").mkdir(parents=True)
    (tmp_path / "etc/gaitu/gaitu.env").write_text(ENV_EXAMPLE)
    units = tmp_path / "etc/systemd/system"
    units.mkdir(parents=True)
    (units / f"{unit}.service").write_text(UNITS[unit])
    done = subprocess.run(
        [analyze, "verify", "--man=no", f"--root={tmp_path}", f"{unit}.service"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Complaints about a line of the file start with its path; the others are about the
    # root's missing system units (sysinit.target), which a real server has.
    complaints = [line for line in done.stderr.splitlines() if line.startswith(str(units))]
    assert complaints == []
    assert "Failed to create" in done.stderr or done.returncode == 0, done.stderr


def test_the_environment_file_lists_only_variables_gaitu_reads():
    names = env_example_names()
    unread = sorted(
        name for name in names if f'"{name}"' not in SETTINGS_TEXT and f'"{name}"' not in SERVE_TEXT
    )
    assert unread == []
    # Everything compose sets for Gaitu, a person setting up machines by hand sets too.
    assert set(SHARED_ENV) <= names
    assert {"SECRET_KEY", "DATABASE_URL", "GAITU_QUEUE_URL", "GAITU_S3_BUCKET"} <= names
