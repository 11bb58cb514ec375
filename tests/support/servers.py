"""Throwaway PostgreSQL, Redis and S3 servers for the scale-out profile, from the installed
binaries, on loopback ports, with their data in one temporary folder.

PostgreSQL and Redis are Debian's (`.ci/run` installs them); the S3 server is s3rver from npm
(package.json), a real S3 HTTP endpoint that keeps its objects on disk. Each test installation
that runs in processes of its own (tests/support/live.py) gets a fresh database, Redis database
and bucket of these servers: fresh_deployment().
"""

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
S3_KEY = "S3RVER"  # s3rver's fixed credentials
REDIS_DATABASES = 4096  # one per installation of a run, and then some


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} stopped at start-up (status {proc.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not open port {port} in {timeout:g} s")


def postgres_binary(name: str) -> str:
    """Debian keeps them out of PATH, in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default="")
    if not found:
        raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


def _postgres_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, it runs as the postgres (or nobody) user."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no user to run PostgreSQL as")


class Servers:
    """The three servers, started once for a test run."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._stack = ExitStack()
        self._redis_databases = itertools.count(1)  # 0 is the in-process tests'

    def start(self, which: tuple[str, ...] = ("postgres", "redis", "s3")) -> None:
        starters = {
            "postgres": self._start_postgres,
            "redis": self._start_redis,
            "s3": self._start_s3,
        }
        for name in which:
            starters[name]()

    def stop(self) -> None:
        self._stack.close()

    def _process(self, command: list[str], log_name: str, **options) -> subprocess.Popen:
        log = open(self.folder / log_name, "wb")  # noqa: SIM115 - closed with the stack
        self._stack.callback(log.close)
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **options)
        self._stack.callback(_end, proc)
        return proc

    def _start_postgres(self) -> None:
        data = self.folder / "postgres"
        data.mkdir()
        user: list[str] = []
        if account := _postgres_user():
            user = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
                    "--clear-groups"]  # fmt: skip
            os.chown(self.folder, account.pw_uid, -1)
            os.chown(data, account.pw_uid, -1)
        subprocess.run(
            [*user, postgres_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "gaitu",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.postgres_port = free_port()
        proc = self._process(
            [*user, postgres_binary("postgres"), "-D", str(data), "-p", str(self.postgres_port),
             "-k", str(data), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=400"],
            "postgres.log",
        )  # fmt: skip
        wait_for_port(self.postgres_port, proc, "PostgreSQL")
        self.postgres_admin(  # accepting connections a moment after the port opens
            "CREATE DATABASE gaitu", retry_for=30
        )

    def postgres_url(self, name: str) -> str:
        return f"postgres://gaitu@127.0.0.1:{self.postgres_port}/{name}"

    def postgres_admin(self, sql: str, retry_for: float = 0) -> None:
        import psycopg

        deadline = time.monotonic() + retry_for
        while True:
            try:
                with psycopg.connect(self.postgres_url("postgres"), autocommit=True) as conn:
                    conn.execute(sql)  # type: ignore[arg-type]
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _start_redis(self) -> None:
        self.redis_port = free_port()
        proc = self._process(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--databases", str(REDIS_DATABASES),
             "--dir", str(self.folder)],
            "redis.log",
        )  # fmt: skip
        wait_for_port(self.redis_port, proc, "Redis")

    def _start_s3(self) -> None:
        s3rver = ROOT / "node_modules" / ".bin" / "s3rver"
        if not s3rver.exists():
            raise RuntimeError("s3rver not found: run `npm ci` in the project folder")
        data = self.folder / "s3"
        data.mkdir()
        self.s3_port = free_port()
        proc = self._process(
            [str(s3rver), "--directory", str(data), "--address", "127.0.0.1",
             "--port", str(self.s3_port), "--silent", "--configure-bucket", "gaitu-tests"],
            "s3rver.log",
        )  # fmt: skip
        wait_for_port(self.s3_port, proc, "s3rver")

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def environment(self) -> dict[str, str]:
        """The variables of the in-process test run."""
        return {
            "GAITU_TEST_PROFILE": "scale",
            "SECRET_KEY": "scale-profile-tests-" + uuid.uuid4().hex,
            "DATABASE_URL": self.postgres_url("gaitu"),
            "GAITU_QUEUE_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "GAITU_S3_BUCKET": "gaitu-tests",
            "GAITU_S3_ENDPOINT_URL": self.s3_endpoint,
            "GAITU_S3_REGION": "us-east-1",
            "GAITU_S3_ACCESS_KEY_ID": S3_KEY,
            "GAITU_S3_SECRET_ACCESS_KEY": S3_KEY,
            "GAITU_S3_ADDRESSING_STYLE": "path",
        }


def fresh_deployment(environ: dict[str, str]) -> dict[str, str]:
    """For one installation in processes of its own: a new database, Redis database and
    bucket on the run's servers, as the variables that point at them."""
    import boto3
    import redis

    database_url = create_database(environ["DATABASE_URL"])
    name = database_url.rsplit("/", 1)[1]
    queue = environ["GAITU_QUEUE_URL"].rsplit("/", 1)[0]
    client = redis.Redis.from_url(f"{queue}/0")
    index = int(client.incr("gaitu-tests:next-database")) % REDIS_DATABASES or 1
    redis.Redis.from_url(f"{queue}/{index}").flushdb()
    bucket = name.replace("_", "-")
    boto3.client(
        "s3",
        endpoint_url=environ["GAITU_S3_ENDPOINT_URL"],
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_KEY,
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    return {
        "DATABASE_URL": database_url,
        "GAITU_QUEUE_URL": f"{queue}/{index}",
        "GAITU_S3_BUCKET": bucket,
    }


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_servers(folder: Path, *which: str):
    """The servers named ("postgres", "redis", "s3"; all three when none is named), until the
    block ends. A test of what only one of them does starts that one alone in the embedded
    profile (tests/support/stored.py, tests/web/test_live_postgres.py)."""
    servers = Servers(folder)
    try:
        servers.start(which or ("postgres", "redis", "s3"))
        yield servers
    finally:
        servers.stop()


def create_database(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server of this URL; its URL."""
    import psycopg

    name = f"gaitu_{uuid.uuid4().hex[:12]}"
    base = server_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return f"{base}/{name}"
