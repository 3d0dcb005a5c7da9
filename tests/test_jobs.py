"""`loaders run --jobs N`: independent marts load at once, each after those it depends on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from loaders import LoadResult, load_project, run_project
from loaders.schedule import run_in_order


def test_run_in_order_respects_dependencies_and_runs_at_once() -> None:
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    def work(name: str) -> str:
        started[name] = time.monotonic()
        time.sleep(0.3)
        finished[name] = time.monotonic()
        return name.upper()

    deps = {"a": [], "b": [], "c": [], "d": ["a", "b"], "e": ["d"]}
    seen: list[str] = []
    out = run_in_order(deps, work, 3, lambda name, result: seen.append(name))
    assert out == {n: n.upper() for n in deps} and sorted(seen) == sorted(deps)
    assert max(started[n] for n in "abc") - min(started[n] for n in "abc") < 0.2  # a, b, c at once
    assert started["d"] >= max(finished["a"], finished["b"]) and started["e"] >= finished["d"]


def marts_file(tmp_path: Path, url: str, n: int) -> Path:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,v\n" + "".join(f"{i},v{i}\n" for i in range(2000)))
    marts: dict[str, Any] = {
        f"m{i}": {"strategy": "merge", "keys": ["id"], "source": {"path": str(rows)}} for i in range(n)
    }
    marts["m0"]["depends_on"] = ["m1", "m2"]
    path = tmp_path / "marts.yaml"
    path.write_text(yaml.safe_dump({"target": url, "marts": marts}))
    return path


@pytest.mark.parametrize("engine", ["postgres", "mysql", "duckdb"], indirect=True)
def test_jobs_load_every_mart_after_its_dependencies(engine: Any, tmp_path: Path) -> None:
    project = load_project(marts_file(tmp_path, engine.url, 6))
    results = run_project(project, jobs=4)
    assert all(isinstance(r, LoadResult) and r.status == "success" for r in results), results
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    with e.connect() as conn:
        runs = {
            r.mart: (r.started_at, r.finished_at)
            for r in conn.execute(sa.text("select mart, started_at, finished_at from _loaders_runs"))
        }
    e.dispose()
    assert len(runs) == 6 and runs["m0"][0] >= max(runs["m1"][1], runs["m2"][1])
    for i in range(6):
        assert len(engine.rows(f"m{i}", ["id"])) == 2000


def test_cli_jobs_option(duck: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from loaders.cli import app

    result = CliRunner().invoke(app, ["run", str(marts_file(tmp_path, duck.url, 3)), "--jobs", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(line.split()[1] for line in result.output.splitlines() if line.startswith("✓")) == ["m0", "m1", "m2"]


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"], indirect=True)
def test_a_run_opens_a_single_writer_file_once(engine: Any, tmp_path: Path) -> None:
    """Marts on a DuckDB or SQLite file load one at a time anyway: the run opens the file once for
    all of them, and a failing mart in the middle leaves the connection clean for the next."""
    path = marts_file(tmp_path, engine.url, 5)
    spec = yaml.safe_load(path.read_text())
    spec["marts"]["m3"]["source"]["path"] = str(tmp_path / "missing.csv")
    path.write_text(yaml.safe_dump(spec))
    opened: list[object] = []

    def count(dbapi_conn: Any, record: Any) -> None:
        opened.append(dbapi_conn)

    sa.event.listen(sa.pool.Pool, "connect", count)
    try:
        results = run_project(load_project(path), jobs=4)
    finally:
        sa.event.remove(sa.pool.Pool, "connect", count)
    statuses = {r.mart: getattr(r, "status", "failed") for r in results}
    assert statuses == {"m0": "success", "m1": "success", "m2": "success", "m3": "failed", "m4": "success"}
    assert len(opened) == 1
    for i in (0, 1, 2, 4):
        assert len(engine.rows(f"m{i}", ["id"])) == 2000


def test_a_mart_whose_dependency_failed_is_not_loaded(duck: Any, tmp_path: Path) -> None:
    """As Airflow's upstream_failed: a mart built on a failed load is not loaded, and says why."""
    path = marts_file(tmp_path, duck.url, 3)  # m0 depends on m1 and m2
    spec = yaml.safe_load(path.read_text())
    spec["marts"]["m2"]["source"]["path"] = str(tmp_path / "missing.csv")
    path.write_text(yaml.safe_dump(spec))
    for jobs in (1, 3):
        outcome = {r.mart: r for r in run_project(load_project(path), jobs=jobs)}
        assert getattr(outcome["m1"], "status", None) == "success"
        assert str(outcome["m0"]) == "mart m0: not loaded: it depends on m2, which failed"
    assert duck.rows("_loaders_runs", ["mart", "status"]).count(("m0", "success")) == 0
