"""The Dockerfile's instructions, read as data (tests/unit/test_deploy_files.py checks them,
tests/e2e/test_health_probes.py runs its health check against a real server)."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_instruction(name: str) -> str:
    """The arguments of the one instruction of that name, its continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def healthcheck_command() -> list[str]:
    """The command of HEALTHCHECK … CMD ["…", …], as a list."""
    arguments = dockerfile_instruction("HEALTHCHECK")
    return json.loads(arguments[arguments.index("CMD ") + len("CMD ") :])
