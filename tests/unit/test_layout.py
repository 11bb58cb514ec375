"""The layout's rules, read off the code: pure packages without Django, no import circles,
models without the parser, and one way to the demo gateway."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ["gateway", "imaging"]
APPS = [
    "accounts",
    "editor",
    "worker",
    "live",
    "studio",
    "api",
    "exports",
    "webapp",
    "webhooks",
    "instructions",
    "providers",
]
PRODUCT = PURE_PACKAGES + APPS


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


MODULES = product_modules()


def imports_of(name: str) -> set[str]:
    """The product modules a module imports, anywhere in it (functions included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from package import module` imports the module; `from module import name` it.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def test_the_layout_is_what_these_rules_read():
    assert {"gateway.chat.reply", "imaging.inspect", "editor.services", "worker.run"} <= set(
        MODULES
    )
    assert "gateway.chat.reply" in GRAPH["gateway.chat.client"]
    assert "editor.models" in GRAPH["editor.services"]


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_django(package):
    names = sorted(name for name in MODULES if name.split(".")[0] == package)
    probe = (
        f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'webapp', "
        + ", ".join(repr(app) for app in APPS)
        + "}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_no_import_circles():
    """Tarjan's strongly connected components: any with two modules or more is a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in GRAPH[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == name:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    assert circles == []


def test_models_import_no_parser():
    for name in ("editor.models", "accounts.models"):
        assert not {target for target in GRAPH[name] if target.startswith("gateway")}, name


def test_only_one_place_picks_the_demo_gateway():
    reaching = sorted(
        name
        for name, targets in GRAPH.items()
        if any(target.startswith("gateway.demo") for target in targets)
        and not name.startswith("gateway.demo")
    )
    # The command that runs the demo gateway on its own, as if it were a real one elsewhere.
    assert reaching == ["editor.gateways", "webapp.management.commands.demo_gateway"]
