"""Every setting that comes from the environment: its variable, type, default and purpose.

This is the one place the settings read the environment (the README's configuration table
describes the same variables). Unset, empty and blank values all mean the default; see env.py
for how each type is read.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from webapp.settings.env import env

# The project folder: code, templates, static sources, translations.
BASE_DIR = Path(__file__).resolve().parent.parent.parent

# --- Where the data lives --------------------------------------------------------------------

# All state lives under GAITU_DATA_DIR: the database, media, the task queue and the secret key.
DATA_DIR: Path = Path(env.str("GAITU_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- Several machines: PostgreSQL, Redis, S3 (README: Running on several machines) ----------

# postgres://user:password@host:5432/name; unset = SQLite in the data folder.
DATABASE_URL: str = env.str("DATABASE_URL", "")
# Pictures in this S3 bucket instead of the data folder; unset = on local disk.
GAITU_S3_BUCKET: str = env.str("GAITU_S3_BUCKET", "")
# The object store's address, e.g. http://minio:9000; unset = Amazon S3 itself.
GAITU_S3_ENDPOINT_URL: str = env.str("GAITU_S3_ENDPOINT_URL", "")
# The bucket's region; unset = the client's default (us-east-1 for most S3-compatible stores).
GAITU_S3_REGION: str = env.str("GAITU_S3_REGION", "")
# The store's credentials; unset = boto3's own chain (instance roles, ~/.aws).
GAITU_S3_ACCESS_KEY_ID: str = env.str("GAITU_S3_ACCESS_KEY_ID", "")
GAITU_S3_SECRET_ACCESS_KEY: str = env.str("GAITU_S3_SECRET_ACCESS_KEY", "")
# path (http://host/bucket/key: most self-hosted stores) or virtual (http://bucket.host/key).
GAITU_S3_ADDRESSING_STYLE: str = env.str("GAITU_S3_ADDRESSING_STYLE", "")

# --- The gateway -----------------------------------------------------------------------------

# Gateway base URL, with or without a trailing /v1.
GAITU_API_BASE: str = env.str("GAITU_API_BASE", "")
# Gateway key; unset means the built-in demo gateway.
GAITU_API_KEY: str = env.str("GAITU_API_KEY", "")
# The demo gateway's models when none are named: a reseller's chat model, an images model
# relayed through chat, and a Gemini image model (editor/model_options.py).
_DEMO_MODELS = ["gpt-4o-image", "gpt-image-1", "gemini-2.5-flash-image"]
# Demo mode: edits go to the built-in gateway, because no key is set.
GAITU_DEMO: bool = not GAITU_API_KEY
# Comma list of the models offered; the first is the default. The demo gateway serves three
# kinds, so that `make run` shows a comparison and each way of taking options.
GAITU_MODELS: list[str] = env.list(
    "GAITU_MODELS",
    default=["gpt-4o-image"] if GAITU_API_KEY else _DEMO_MODELS,
)
# Ask for a streamed reply (keeps slow requests alive through proxies).
GAITU_STREAM: bool = env.bool("GAITU_STREAM", True)
# max_tokens to send; unset or 0 means none is sent.
GAITU_MAX_TOKENS: int | None = env.int("GAITU_MAX_TOKENS", 0) or None
# The detail of each image_url part sent.
GAITU_IMAGE_DETAIL: str = env.str("GAITU_IMAGE_DETAIL", "high")
# Extra request fields for this deployment, e.g. {"modalities": ["image", "text"]} for OpenRouter.
GAITU_EXTRA_BODY: dict[str, object] = env.json_object("GAITU_EXTRA_BODY")
# How models take sizes, several results and quality, by name or prefix ending in "*"
# (editor/model_options.py), e.g. {"my-image-model": {"size": "size", "n": "n", "quality": true}}.
GAITU_MODEL_OPTIONS: dict[str, dict] = env.json_object("GAITU_MODEL_OPTIONS")
# Which API the environment's gateway is spoken to through: "auto" (by model name,
# gateway/transports.py: gpt-image-*, dall-e-*, Seedream through the images API, the rest
# through chat completions), or "chat", "images" or "gemini" for every model.
GAITU_TRANSPORT: str = env.str("GAITU_TRANSPORT", "auto")
# Per model, the API to use, over GAITU_TRANSPORT: e.g. {"nano-banana": "gemini"}. (Unset, the
# demo gateway serves its Gemini model through Gemini's own API: providers/routing.py.)
GAITU_MODEL_TRANSPORTS: dict[str, str] = env.json_object("GAITU_MODEL_TRANSPORTS")
# Fernet keys that encrypt the providers' API keys at rest, comma separated: the first
# encrypts, all decrypt (providers/secrets.py). Unset: a key derived from SECRET_KEY.
GAITU_PROVIDER_KEYS: list[str] = env.list("GAITU_PROVIDER_KEYS", [])
# Long side of the picture sent upstream, in pixels.
GAITU_SEND_MAX_SIDE: int = env.int("GAITU_SEND_MAX_SIDE", 2048)
# Seconds to connect to the gateway.
GAITU_CONNECT_TIMEOUT: float = env.float("GAITU_CONNECT_TIMEOUT", 15.0)
# Seconds the gateway may stay silent mid-reply.
GAITU_READ_TIMEOUT: float = env.float("GAITU_READ_TIMEOUT", 120.0)
# Seconds one edit's request may take in all.
GAITU_TOTAL_TIMEOUT: float = env.float("GAITU_TOTAL_TIMEOUT", 600.0)
# Requests per edit when the gateway fails transiently; at least one.
GAITU_MAX_ATTEMPTS: int = max(1, env.int("GAITU_MAX_ATTEMPTS", 3))
# Seconds the demo gateway takes to answer an edit, its own picture work included.
GAITU_DEMO_LATENCY: float = env.float("GAITU_DEMO_LATENCY", 3.0)

# --- Pictures --------------------------------------------------------------------------------

# Largest upload, per picture, in MB.
GAITU_UPLOAD_MAX_MB: int = env.int("GAITU_UPLOAD_MAX_MB", 20)
# Pictures per edit.
GAITU_MAX_INPUTS: int = env.int("GAITU_MAX_INPUTS", 4)
# Pictures in one batch (one instruction, an edit per picture).
GAITU_BATCH_MAX: int = max(1, env.int("GAITU_BATCH_MAX", 20))
# Models one comparison may send the same pictures to (at least two).
GAITU_COMPARE_MAX: int = 4
# Largest upload, in pixels (width × height); fixed, not read from the environment.
GAITU_MAX_PIXELS: int = 50_000_000
# Largest result Gaitu will download, in MB.
GAITU_RESULT_MAX_MB: int = env.int("GAITU_RESULT_MAX_MB", 40)
# Hosts exempt from the private-address rule for result downloads (intranet gateways).
GAITU_FETCH_ALLOW_HOSTS: list[str] = env.list("GAITU_FETCH_ALLOW_HOSTS", default=[])

# --- People and limits -----------------------------------------------------------------------

# GAITU_SIGNUP=open lets anyone create an account from the login page; anything else is closed.
GAITU_SIGNUP: bool = env.str("GAITU_SIGNUP", "closed").lower() == "open"
# Edits one person may start per day; 0 = unlimited.
GAITU_DAILY_LIMIT: int = env.int("GAITU_DAILY_LIMIT", 0)
# Edits one person may start per minute; 0 = unlimited.
GAITU_RATE_LIMIT: int = env.int("GAITU_RATE_LIMIT", 20)
# Edits of one person running at once, at least one; more wait their turn, in order.
GAITU_MAX_ACTIVE_PER_USER: int = max(1, env.int("GAITU_MAX_ACTIVE_PER_USER", 4))
# Bytes of stored pictures (originals, results, thumbnails) one person may keep, in MB; 0 = no
# quota. Over it, new edits are refused until some are deleted.
GAITU_STORAGE_QUOTA_MB: int = max(0, env.int("GAITU_STORAGE_QUOTA_MB", 0))

# Require two-factor sign-in (an authenticator app) for every account: the owner and everyone
# they add set it up at their next login.
GAITU_REQUIRE_2FA: bool = env.bool("GAITU_REQUIRE_2FA", False)

# --- The web server (serve) ------------------------------------------------------------------

# Comma list of proxy addresses (or networks, e.g. 10.0.0.0/8) whose X-Forwarded-For and
# X-Forwarded-Proto are believed; empty = none, the direct peer is the client.
GAITU_TRUSTED_PROXIES: list[str] = env.list("GAITU_TRUSTED_PROXIES", default=[])
# Open connections one client address may hold at once (live streams included).
GAITU_MAX_CONNECTIONS_PER_ADDRESS: int = max(1, env.int("GAITU_MAX_CONNECTIONS_PER_ADDRESS", 64))
# Seconds a client has to send a request's headers.
GAITU_HEADER_TIMEOUT: float = env.float("GAITU_HEADER_TIMEOUT", 10.0)
# Seconds a request body may stall (no bytes arriving) before the connection is closed.
GAITU_BODY_TIMEOUT: float = env.float("GAITU_BODY_TIMEOUT", 30.0)
# Seconds an idle connection is kept open for the next request.
GAITU_KEEP_ALIVE_TIMEOUT: float = env.float("GAITU_KEEP_ALIVE_TIMEOUT", 30.0)

# --- Disk ------------------------------------------------------------------------------------

# Free space, in MB, to keep on the disk holding the media (and, usually, the database): below
# it new edits are refused, so that logging in, browsing, downloading and deleting keep
# working on a filling disk. 0 = no floor.
GAITU_MIN_FREE_MB: int = max(0, env.int("GAITU_MIN_FREE_MB", 500))

# --- The worker and its queue (queue.py) ------------------------------------------------------

# redis://, rediss://, unix:// or postgres:// to share the job queue between machines; unset =
# the PostgreSQL database of DATABASE_URL if there is one, else SQLite in the data folder.
GAITU_QUEUE_URL: str = env.str("GAITU_QUEUE_URL", "")
# Edits one worker process runs at once. A thread waiting on a gateway costs about 44 KiB, and
# holds neither its picture (a file) nor, on PostgreSQL, a database connection, so hundreds are
# cheap. Except with the queue in PostgreSQL: there each idle thread waits on a LISTEN
# connection of its own (huey's PostgresStorage), and PostgreSQL allows 100 by default.
_POSTGRES_QUEUE = (GAITU_QUEUE_URL or DATABASE_URL).startswith(("postgres://", "postgresql://"))
GAITU_WORKER_THREADS: int = max(1, env.int("GAITU_WORKER_THREADS", 32 if _POSTGRES_QUEUE else 256))
# Seconds without a heartbeat before a running edit counts as interrupted.
GAITU_HEARTBEAT_TIMEOUT: float = env.float("GAITU_HEARTBEAT_TIMEOUT", 120.0)

# Any of these makes the scale-out profile: several processes on several machines share the
# database, the queue and the pictures.
GAITU_SCALE_OUT: bool = bool(DATABASE_URL or GAITU_QUEUE_URL or GAITU_S3_BUCKET)
# Processes of the web server: with several, connections are shared between them by the
# kernel. Default: one per core, on either profile. A process runs Django's views one at a time
# (in one thread, under one GIL), and a page is Python work (mostly template rendering), so one
# process answers at most one core's worth: on two cores, 64 people at once got half the
# machine (bench/many.py). SQLite in WAL mode reads in every process at once, and its writes
# already come from several processes (the web server and the worker).
GAITU_WEB_PROCESSES: int = max(1, env.int("GAITU_WEB_PROCESSES", os.cpu_count() or 1))

# --- HTTPS (security.py) ---------------------------------------------------------------------

# Served over HTTPS only, usually behind a TLS proxy: secure cookies, HSTS, redirect to https.
GAITU_HTTPS: bool = env.bool("GAITU_HTTPS", False)
# With GAITU_HTTPS: ask browsers to preload HSTS (hard to undo, so opt-in).
GAITU_HSTS_PRELOAD: bool = env.bool("GAITU_HSTS_PRELOAD", False)
# With GAITU_HTTPS: 0 when the proxy already redirects http:// to https:// itself.
GAITU_SSL_REDIRECT: bool = env.bool("GAITU_SSL_REDIRECT", True)

# --- Django's own, under Django's names (base.py) --------------------------------------------


def _persistent_secret_key() -> str:
    """A key generated once per installation, so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def _shared_secret_key() -> str:
    """Every machine must sign with the same key: sessions, signed cookies (the login limits'
    known-device cookie) and password reset links signed on one must hold on the others."""
    key = env.str("SECRET_KEY", "")
    if not key:
        raise ImproperlyConfigured(
            "Set SECRET_KEY: with DATABASE_URL, GAITU_QUEUE_URL or GAITU_S3_BUCKET set, Gaitu "
            "may run on several machines, and all of them must sign with the same key, or "
            "people are logged out whenever a request reaches another machine. Make one with: "
            "openssl rand -base64 48"
        )
    return key


# Signs sessions and cookies; unset = the key generated once into DATA_DIR/secret_key
# (required in the scale-out profile, the same on every machine).
SECRET_KEY: str = (
    _shared_secret_key()
    if GAITU_SCALE_OUT
    else env.str("SECRET_KEY", "") or _persistent_secret_key()
)
# Django's debug mode.
DEBUG: bool = env.bool("DEBUG", False)
# Host names the site answers to (add yours when serving beyond loopback).
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Origins trusted for form posts, e.g. https://gaitu.example.com behind a TLS proxy.
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The time zone dates are shown in.
TIME_ZONE: str = env.str("TIME_ZONE", "UTC")
