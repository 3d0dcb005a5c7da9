"""The package's shape, checked: no import cycles, engines only behind targets, cheap commands stay cheap."""

from __future__ import annotations

import ast
import graphlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "loaders"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """``loaders.*`` modules a file imports anywhere (functions included), except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("loaders"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("loaders"))
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(path) if m in files and m != name} for name, path in files.items()}


def test_no_import_cycles() -> None:
    """Every import points down: the modules can be ordered so none imports one after it."""
    try:
        list(graphlib.TopologicalSorter(graph()).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")


def test_strategies_and_the_load_know_no_engine() -> None:
    """Engine names appear only in target adapters (docstrings and comments aside)."""
    paths = [*(PACKAGE / "strategies").glob("*.py"), *(PACKAGE / n for n in ("runner.py", "state.py", "health.py"))]
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):  # drop docstrings; comments are gone once parsed
            body = getattr(node, "body", None)
            first = body[0] if isinstance(body, list) and body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                body[0] = ast.Pass()  # type: ignore[index]
        code = ast.unparse(tree)
        found = re.findall(r"duckdb|postgres|mysql|sqlite", code, re.I)
        assert not found, f"{path.name} names an engine: {found}"


def test_strategies_do_not_import_what_runs_them() -> None:
    g = graph()
    for name, deps in g.items():
        if name.startswith("loaders.strategies"):
            assert not deps & {"loaders.runner", "loaders.api", "loaders.cli", "loaders.project"}, name


@pytest.mark.parametrize("args", [["--help"], ["validate", "examples/quickstart/marts.yaml"]])
def test_cheap_commands_import_no_arrow_and_no_engine(args: list[str]) -> None:
    code = (
        "import sys; from loaders.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'duckdb', 'duckdb_engine', "
        "'psycopg', 'pymysql', 'airflow'))\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120, check=True
    )
    assert "HEAVY []" in out.stdout, out.stdout[-2000:]
