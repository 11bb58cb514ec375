"""Security headers: the nonce-based Content Security Policy, the other protective headers,
HTTPS-only cookies and HSTS, and a clean `check --deploy` under production settings."""

import functools
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from editor.models import Edit
from studio.views.media import MEDIA_CSP
from tests.support.factories import upload

BASE_DIR = Path(django_settings.BASE_DIR)
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*")
ONE_YEAR = 365 * 24 * 60 * 60


# --- Helpers ---------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} appears twice in {header!r}"
        directives[name] = values
    return directives


def page_nonce(response) -> str:
    """The nonce of a page's policy, the same for scripts and styles."""
    directives = csp_directives(response)
    nonces = {
        name: [v for v in directives[name] if v.startswith("'nonce-")]
        for name in ("script-src", "style-src")
    }
    assert len(nonces["script-src"]) == 1, directives
    assert nonces["script-src"] == nonces["style-src"], directives
    nonce = nonces["script-src"][0].removeprefix("'nonce-").removesuffix("'")
    assert len(nonce) >= 16
    return nonce


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_nothing_inline_runs_without_the_nonce(response):
    """What the policy would block in a browser: un-nonced script/style, style attributes,
    inline event handlers and javascript: URLs."""
    nonce = page_nonce(response)
    tags = tags_of(response.text)
    scripts_and_styles = [(tag, attrs) for tag, attrs in tags if tag in {"script", "style"}]
    assert scripts_and_styles, "the page should load htmx and gaitu.js"
    for tag, attrs in scripts_and_styles:
        assert attrs.get("nonce") == nonce, f"<{tag} {attrs}> lacks the page's nonce"
    for tag, attrs in tags:
        assert "style" not in attrs, f"<{tag}> has a style attribute: {attrs['style']!r}"
        handlers = [name for name in attrs if name.startswith(("on", "hx-on", "data-hx-on"))]
        assert not handlers, f"<{tag}> has inline event handlers {handlers}"
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith("javascript:"), f"<{tag} {name}={value!r}>"
    assert not re.search(r"<[^>]*\sstyle\s*=", response.text, re.IGNORECASE)


def assert_protective_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def submit_demo_edit(client, run_jobs) -> Edit:
    data = {"instruction": "make it black and white", "model": "gpt-4o-image", "images": [upload()]}
    with run_jobs():
        response = client.post(reverse("studio"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.text
    edit = Edit.objects.get()
    assert edit.status == Edit.Status.SUCCEEDED, edit.error_detail
    return edit


# --- The page policy -------------------------------------------------------------------------


def test_the_policy_is_strict(client, owner):
    directives = csp_directives(client.get(reverse("login")))
    nonce = page_nonce(client.get(reverse("login")))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'" and len(directives["script-src"]) == 2
    assert directives["style-src"][0] == "'self'" and len(directives["style-src"]) == 2
    assert sorted(directives["img-src"]) == sorted(["'self'", "data:", "blob:"])
    assert directives["connect-src"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    for name, values in directives.items():
        for unsafe in UNSAFE_SOURCES:
            assert unsafe not in values, f"{name} allows {unsafe}"
    assert nonce


def test_every_response_gets_a_fresh_nonce(client, owner):
    nonces = {page_nonce(client.get(reverse("login"))) for _ in range(3)}
    assert len(nonces) == 3


def test_the_login_page(client, owner):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_protective_headers(response)
    assert_nothing_inline_runs_without_the_nonce(response)


def test_the_first_run_page(client, db):
    response = client.get(reverse("setup"))
    assert response.status_code == 200
    assert_protective_headers(response)
    assert_nothing_inline_runs_without_the_nonce(response)


def test_the_empty_studio(owner_client):
    response = owner_client.get(reverse("studio"))
    assert response.status_code == 200
    assert_protective_headers(response)
    assert_nothing_inline_runs_without_the_nonce(response)


def test_pages_with_an_edit(owner_client, run_jobs):
    edit = submit_demo_edit(owner_client, run_jobs)
    for url in (reverse("studio"), reverse("gallery"), reverse("edit_detail", args=[edit.pk])):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert_protective_headers(response)
        assert_nothing_inline_runs_without_the_nonce(response)


def test_htmx_fragments_carry_no_script_or_style(owner_client, run_jobs):
    """htmx is configured not to run scripts it swaps in (allowScriptTags: false)."""
    edit = submit_demo_edit(owner_client, run_jobs)
    response = owner_client.get(reverse("edit_detail", args=[edit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    tags = tags_of(response.text)
    assert not [tag for tag, _ in tags if tag in {"script", "style"}]
    assert not [tag for tag, attrs in tags if "style" in attrs]


def test_the_admin_keeps_to_the_policy(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert_protective_headers(response)
    assert_nothing_inline_runs_without_the_nonce(response)


def test_htmx_is_configured_for_the_policy(client, owner):
    """Without these, htmx 2 injects an un-nonced <style> and evaluates hx-on/js: code."""
    response = client.get(reverse("login"))
    tags = tags_of(response.text)
    meta = [attrs for tag, attrs in tags if tag == "meta" and attrs.get("name") == "htmx-config"]
    assert len(meta) == 1
    config = json.loads(meta[0]["content"])
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    # The nonce never goes into the htmx config, where any script could read it.
    assert page_nonce(response) not in meta[0]["content"]


# The project's templates, and each app's own (accounts/templates, studio/templates, ...).
TEMPLATE_FILES = sorted(
    path.relative_to(BASE_DIR)
    for folder in [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    for path in folder.rglob("*.html")
)


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=str)
def test_templates_need_nothing_the_policy_blocks(template):
    """Catches what a rendered-page test might miss on a branch the tests do not reach."""
    source = (BASE_DIR / template).read_text()
    assert not re.search(r"\sstyle\s*=", source), "style attributes need 'unsafe-inline'"
    assert not re.search(r"\s(?:data-)?(?:hx-)?on[a-z:-]*\s*=", source), "inline handlers"
    assert "javascript:" not in source.lower()
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", source, re.IGNORECASE):
        assert "csp_nonce" in tag, f"{tag} carries no nonce"


# --- Pictures keep their own, stricter policy ------------------------------------------------


@pytest.mark.parametrize("kind", ["source", "result"])
@pytest.mark.parametrize("variant", ["full", "thumb", "download"])
def test_pictures_keep_their_own_sandboxed_policy(owner_client, run_jobs, kind, variant):
    edit = submit_demo_edit(owner_client, run_jobs)
    response = owner_client.get(reverse("media", args=[edit.pk, kind, 0, variant]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == MEDIA_CSP
    directives = csp_directives(response)
    assert directives["default-src"] == ["'none'"]
    assert "sandbox" in directives
    assert "nonce" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


# --- The JavaScript needs nothing the policy forbids -----------------------------------------

JS_FILES = sorted((BASE_DIR / "static").rglob("*.js"))


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_javascript_needs_no_eval_or_inline_code(path):
    source = path.read_text()
    code = re.sub(r"^\s*//.*$", "", source, flags=re.MULTILINE)  # comments may say anything
    forbidden = {
        r"\beval\s*\(": "eval()",
        r"\bnew\s+Function\s*\(": "new Function()",
        r"\b(?:setTimeout|setInterval)\s*\(\s*['\"`]": "string timers",
        r"\.on[a-z]+\s*=[^=]": "on... properties (use addEventListener)",
        r"setAttribute\s*\(\s*['\"](?:on[a-z]+|style)['\"]": "inline handler/style attributes",
        r"\b(?:innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b": "HTML from strings",
        r"javascript:": "javascript: URLs",
        r"style\s*=\s*\\?['\"]": "style attributes in markup",
    }
    found = [what for pattern, what in forbidden.items() if re.search(pattern, code)]
    assert not found, f"{path.name} uses {', '.join(found)}"


def test_the_javascript_files_are_checked():
    assert any(p.name == "gaitu.js" for p in JS_FILES)


# --- HTTPS: Secure cookies, HSTS, redirects ----------------------------------------------------

PRODUCTION_SETTINGS = (
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SAMESITE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_PROXY_SSL_HEADER",
)


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a deployment: nothing of the test run's own configuration."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GAITU_")
        and name
        not in {
            "SECRET_KEY",
            "DATABASE_URL",
            "DEBUG",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        GAITU_DATA_DIR=str(data_dir),
        ALLOWED_HOSTS="gaitu.example.com",
        PYTHONWARNINGS="default",
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@functools.cache
def _settings_under(data_dir: str, env_items: tuple[tuple[str, str], ...]) -> dict:
    code = (
        "import json\nfrom django.conf import settings\n"
        f"print(json.dumps({{n: getattr(settings, n) for n in {PRODUCTION_SETTINGS!r}}}))"
    )
    result = run_python(code, production_env(Path(data_dir), **dict(env_items)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def settings_under(data_dir: Path, **env: str) -> dict:
    """The settings webapp/settings.py gives in a fresh process with this environment."""
    return _settings_under(str(data_dir), tuple(sorted(env.items())))


@pytest.fixture(scope="module")
def prod_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gaitu-prod")


def test_https_settings(prod_data_dir):
    https = settings_under(prod_data_dir, GAITU_HTTPS="1")
    assert https == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "LANGUAGE_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SAMESITE": "Lax",
        "SECURE_HSTS_SECONDS": ONE_YEAR,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$"],  # health checks ask over plain HTTP
        # Only the web server reads X-Forwarded-Proto, from trusted proxies only (test_proxies).
        "SECURE_PROXY_SSL_HEADER": None,
    }
    proxy_redirects = settings_under(prod_data_dir, GAITU_HTTPS="1", GAITU_SSL_REDIRECT="0")
    assert proxy_redirects == {**https, "SECURE_SSL_REDIRECT": False}
    preload = settings_under(prod_data_dir, GAITU_HTTPS="1", GAITU_HSTS_PRELOAD="1")
    assert preload == {**https, "SECURE_HSTS_PRELOAD": True}


def test_plain_http_settings(prod_data_dir):
    """Without GAITU_HTTPS (a laptop, a LAN): cookies must work over http://, so no Secure."""
    plain = settings_under(prod_data_dir)
    assert plain["SESSION_COOKIE_SECURE"] is plain["CSRF_COOKIE_SECURE"] is False
    assert plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SECURE_SSL_REDIRECT"] is False
    assert plain["SECURE_PROXY_SSL_HEADER"] is None
    assert plain["SESSION_COOKIE_SAMESITE"] == plain["CSRF_COOKIE_SAMESITE"] == "Lax"


@pytest.fixture
def https_settings(settings, prod_data_dir):
    """This process's settings switched to what GAITU_HTTPS=1 gives (middleware reads them
    when the test client builds its handler, at its first request)."""
    for name, value in settings_under(prod_data_dir, GAITU_HTTPS="1").items():
        if name == "DEBUG":
            continue
        setattr(settings, name, tuple(value) if isinstance(value, list) else value)
    return settings


def test_plain_http_is_redirected_to_https(client, owner, https_settings):
    response = client.get(reverse("login") + "?next=/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver" + reverse("login") + "?next=/"
    assert "Strict-Transport-Security" not in response  # only ever sent over HTTPS


def test_hsts_over_https(client, owner, https_settings):
    response = client.get(reverse("login"), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"
    assert_protective_headers(response)
    page_nonce(response)


def test_django_believes_no_header_that_says_https(client, owner, https_settings):
    """Whoever reaches the server could send X-Forwarded-Proto: the web server alone reads it,
    from trusted proxies only, and says the scheme it found (tests/e2e/test_proxies.py)."""
    response = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response


def test_cookies_are_secure_over_https(client, owner, https_settings):
    page = client.get(reverse("login"), secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"

    response = client.post(
        reverse("login"),
        {"username": "owner", "password": "correct horse battery"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/"}, secure=True
    )
    language = response.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    assert language["secure"] and language["samesite"] == "Lax"


def test_cookies_work_over_plain_http_by_default(client, owner):
    page = client.get(reverse("login"))
    assert not page.cookies["csrftoken"]["secure"]
    assert page.cookies["csrftoken"]["samesite"] == "Lax"


# --- manage.py check --deploy ----------------------------------------------------------------

DEPLOY_CHECK = (
    "import django\n"
    "django.setup()\n"
    "from django.core.management import call_command\n"
    "call_command('check', '--deploy', '--fail-level', 'WARNING')\n"
)


def deploy_check(data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return run_python(DEPLOY_CHECK, production_env(data_dir, **env))


def assert_clean(result: subprocess.CompletedProcess):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.\n", result.stdout)
    assert "WARNING" not in output.upper(), output


# HTTPS behind a TLS proxy on the same machine, which the web server believes.
BEHIND_A_PROXY = {"GAITU_HTTPS": "1", "GAITU_TRUSTED_PROXIES": "127.0.0.1"}


def test_deploy_check_is_clean_with_https(tmp_path):
    """The secret key is the one generated into the fresh data folder."""
    assert_clean(deploy_check(tmp_path, **BEHIND_A_PROXY))
    assert len((tmp_path / "secret_key").read_text().strip()) >= 50


def test_deploy_check_is_clean_behind_a_redirecting_proxy(tmp_path):
    key = "k3Y-" + "x7Qm9vPz2LrT8wN4bJcF6hD1sA5gE0uYiO3tKqWnZ" + "-Hj2Vb8Nd4Rf"
    assert_clean(deploy_check(tmp_path, **BEHIND_A_PROXY, GAITU_SSL_REDIRECT="0", SECRET_KEY=key))


def test_deploy_check_is_clean_with_preload(tmp_path):
    assert_clean(deploy_check(tmp_path, **BEHIND_A_PROXY, GAITU_HSTS_PRELOAD="1"))


@pytest.mark.parametrize("redirect", ["1", "0"])
def test_deploy_check_warns_of_https_without_a_trusted_proxy(tmp_path, redirect):
    """No request could be seen to be secure: with the redirect on, it would never end."""
    result = deploy_check(tmp_path, GAITU_HTTPS="1", GAITU_SSL_REDIRECT=redirect)
    assert result.returncode != 0
    assert "gaitu.W001" in result.stderr
    assert ("redirected to https:// again, forever" in result.stderr) is (redirect == "1")


def test_deploy_check_still_warns_without_https(tmp_path):
    """The check really runs: served over plain HTTP, Django says what is missing."""
    result = deploy_check(tmp_path)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, result.stderr
