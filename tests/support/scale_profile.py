"""`make test`'s second run: the suite on real PostgreSQL, Redis and S3 servers.

python -m tests.support.scale_profile [pytest arguments]

Starts the servers (tests/support/servers.py), runs pytest with the scale-out variables set
(DATABASE_URL, GAITU_QUEUE_URL, GAITU_S3_*; the test settings keep them in this run only, see
webapp/settings/env.py), and stops the servers whatever the outcome.
"""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.servers import ROOT, running_servers


def main(arguments: list[str]) -> int:
    # Stopped from outside (a CI timeout), the servers are stopped too, not left running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="gaitu-scale-") as folder:
        with running_servers(Path(folder)) as servers:
            environment = {**os.environ, **servers.environment()}
            sys.stderr.write(
                f"Scale-out profile: PostgreSQL on port {servers.postgres_port}, Redis on "
                f"{servers.redis_port}, S3 (s3rver) on {servers.s3_port}\n"
            )
            sys.stderr.flush()
            return subprocess.call(
                [sys.executable, "-m", "pytest", *arguments], cwd=ROOT, env=environment
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
