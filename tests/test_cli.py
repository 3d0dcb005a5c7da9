"""The CLI as a person uses it: run / plan / history / validate on a marts file, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from loaders.cli import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"id": [1, 2], "city": ["A", "B"]}), tmp_path / "data" / "c.parquet")
    (tmp_path / "marts.yaml").write_text(
        "target: duckdb:///wh.duckdb\n"
        "marts:\n"
        "  dim_c:\n"
        "    strategy: scd2\n"
        "    source: {path: data/c.parquet}\n"
        "    keys: [id]\n"
        "  copy_c:\n"
        "    strategy: full\n"
        "    table: main.copy_of_c\n"
        "    source: {path: data/*.parquet}\n"
    )
    return tmp_path / "marts.yaml"


def rows(db: Path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_run_loads_every_mart_and_prints_a_line_each(project: Path) -> None:
    result = runner.invoke(app, ["run", str(project)])
    assert result.exit_code == 0, result.output
    assert "dim_c (scd2 → dim_c)  inserted 2" in result.output
    assert "copy_c (full → main.copy_of_c)  inserted 2" in result.output
    db = project.parent / "wh.duckdb"  # relative target resolves against the marts file
    assert rows(db, "select id, city, is_current from dim_c order by id") == [(1, "A", True), (2, "B", True)]


def test_run_one_mart_and_json(project: Path) -> None:
    result = runner.invoke(app, ["run", str(project), "--mart", "copy_c", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["mart"] == "copy_c" and out["inserted"] == 2 and out["status"] == "success"


def test_plan_changes_nothing_and_shows_counts_and_sql(project: Path) -> None:
    runner.invoke(app, ["run", str(project)])
    pq.write_table(pa.table({"id": [1, 3], "city": ["A2", "C"]}), project.parent / "data" / "c.parquet")
    db = project.parent / "wh.duckdb"
    before = rows(db, "select * from dim_c order by all"), rows(db, "select count(*) from _loaders_runs")
    result = runner.invoke(app, ["plan", str(project), "--mart", "dim_c"])
    assert result.exit_code == 0, result.output
    assert "inserted 2, updated 0, deleted 0, closed 1, unchanged 0" in result.output
    assert "UPDATE dim_c SET valid_to" in result.output
    assert (rows(db, "select * from dim_c order by all"), rows(db, "select count(*) from _loaders_runs")) == before


def test_history_lists_runs(project: Path) -> None:
    runner.invoke(app, ["run", str(project)])
    result = runner.invoke(app, ["history", str(project), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert {r["mart"] for r in lines} == {"dim_c", "copy_c"} and all(r["status"] == "success" for r in lines)
    table = runner.invoke(app, ["history", str(project)])
    assert "dim_c" in table.output and "success" in table.output


def test_validate_touches_no_database(project: Path) -> None:
    result = runner.invoke(app, ["validate", str(project)])
    assert result.exit_code == 0 and "2 marts valid" in result.output
    assert not (project.parent / "wh.duckdb").exists()


def test_bad_spec_is_one_line_exit_2(project: Path) -> None:
    project.write_text(project.read_text().replace("strategy: scd2", "strategy: scd3"))
    result = subprocess.run(
        [sys.executable, "-m", "loaders.cli", "validate", str(project)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert (
        "unknown strategy 'scd3'; valid strategies: full, append, merge, scd1, scd2, cdc, overwrite_window, snapshot"
        in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_failed_mart_exit_1_others_still_load(project: Path) -> None:
    pq.write_table(pa.table({"id": [1, 1], "city": ["A", "B"]}), project.parent / "data" / "c.parquet")
    result = subprocess.run([sys.executable, "-m", "loaders.cli", "run", str(project)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "✗ dim_c" in result.stdout and "keys appear more than once" in result.stdout
    assert "✓ copy_c" in result.stdout
    assert "1 of 2 marts failed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_mart_name(project: Path) -> None:
    result = runner.invoke(app, ["run", str(project), "--mart", "nope"])
    assert result.exit_code == 2


def test_version() -> None:
    from loaders.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("loaders 0.")


def test_help_names_every_strategy() -> None:
    from loaders.cli import STRATEGY_LIST
    from loaders.marts import SPECS
    from loaders.strategies import STRATEGIES, STRATEGY_NAMES

    assert ", ".join(STRATEGY_NAMES) == STRATEGY_LIST
    assert {name: cls.spec_model for name, cls in STRATEGIES.items()} == SPECS  # the options models, one each


def test_validate_and_help_import_no_database_library(project: Path) -> None:
    """`loaders validate` and `--help` start fast: no SQLAlchemy, Arrow, DuckDB or drivers imported."""
    code = (
        "import sys; from loaders.cli import main; sys.argv = ['loaders', 'validate', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'pyarrow', 'duckdb', 'psycopg') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True)
    assert "2 marts valid" in done.stdout and "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_duckdb_reads_parquet_without_arrow_in_the_process(tmp_path: Path) -> None:
    """A DuckDB load of Parquet files runs without importing pyarrow (0.1 s of every process with the
    numpy it brings): the engine reads the footers and the rows, every strategy, a second run too
    (the watermark's pushdown, a zoned cursor); nor MySQL's SQLAlchemy dialect (15-35 ms), which only
    a MariaDB target needs. Rows and the run's counts prove the load happened."""
    from datetime import datetime, timezone

    at = [datetime(2026, 1, d, tzinfo=timezone.utc) for d in (1, 2)]
    pq.write_table(pa.table({"id": [1, 2], "city": ["A", "B"], "at": at}), tmp_path / "b.parquet")
    feed = {"id": [1, 2], "city": ["A", None], "op": ["u", "d"], "lsn": [1, 2]}
    pq.write_table(pa.table(feed), tmp_path / "feed.parquet")
    (tmp_path / "marts.yaml").write_text(
        "target: duckdb:///wh.duckdb\n"
        "marts:\n"
        "  f: {strategy: full, source: {path: b.parquet}}\n"
        "  a: {strategy: append, cursor: at, source: {path: b.parquet}}\n"
        "  m: {strategy: merge, keys: [id], delete_missing: true, source: {path: b.parquet}}\n"
        "  s: {strategy: scd2, keys: [id], effective_from: at, source: {path: b.parquet}}\n"
        "  c: {strategy: cdc, keys: [id], sequence: lsn, op_column: op, source: {path: feed.parquet}}\n"
    )
    code = (
        "import sys; from loaders.cli import main; sys.argv = ['loaders', 'run', 'marts.yaml', '--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
        "print('ARROW', sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'numpy')))\n"
        "print('MYSQL', sorted(m for m in sys.modules if m.startswith(('sqlalchemy.dialects.mysql', 'pymysql'))))"
    )
    for run in (1, 2):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert "ARROW []" in done.stdout and "EXIT 0" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
        assert "MYSQL []" in done.stdout, done.stdout[-3000:]
        lines = done.stdout[: done.stdout.index("EXIT")].splitlines()
        results = {r["mart"]: r for r in map(json.loads, lines)}
        assert results["a"]["inserted"] == (2 if run == 1 else 0), results["a"]
    assert rows(tmp_path / "wh.duckdb", "select id, city from a order by id") == [(1, "A"), (2, "B")]
    assert rows(tmp_path / "wh.duckdb", "select id, city from c order by id") == [(1, "A")]
    assert rows(tmp_path / "wh.duckdb", "select count(*) from s") == [(2,)]


def _terminal_output(args: list[str], cwd: Path) -> str:
    """What `loaders ...` prints on a terminal (a pseudo-terminal for stdout and stderr)."""
    import os
    import pty

    main, replica = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen(
        [Path(sys.executable).parent / "loaders", *args], cwd=cwd, stdout=replica, stderr=replica, env=env
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the replica closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


def test_long_loads_show_progress_on_a_terminal_and_stay_quiet_when_piped(tmp_path: Path) -> None:
    """Rows read and rows/s of the mart being loaded, on a terminal; nothing but the summary piped."""
    n = 1_000_000
    pq.write_table(pa.table({"id": pa.array(range(n)), "v": pa.array(range(n))}), tmp_path / "big.parquet",
                   row_group_size=50_000)  # fmt: skip
    (tmp_path / "marts.yaml").write_text(
        "target: duckdb:///wh.duckdb\nmarts:\n  big: {strategy: merge, keys: [id], source: {path: big.parquet}}\n"
    )
    shown = _terminal_output(["run", "marts.yaml"], tmp_path)
    assert "rows read" in shown and "rows/s" in shown, shown[-2000:]
    assert "inserted 1000000" in shown.replace(",", "")  # the summary line, as when piped
    piped = subprocess.run(
        [Path(sys.executable).parent / "loaders", "run", "marts.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert piped.returncode == 0
    assert "rows read" not in piped.stdout + piped.stderr and "\x1b" not in piped.stdout + piped.stderr
    assert piped.stdout.count("\n") == 1  # the summary line only


def test_progress_line_counts_rows_per_mart() -> None:
    from loaders.cli import _Reading

    shown: list[str] = []
    reading = _Reading(shown.append, "loading")
    reading.rows("a", 1000)
    reading.shown = 0  # past the refresh interval
    reading.rows("a", 500)
    assert shown[-1].startswith("loading a: 1,500 rows read (") and shown[-1].endswith(" rows/s)")
    reading.done("a")
    assert shown[-1] == "loading…"


def test_brackets_in_sql_are_printed_as_written(tmp_path: Path) -> None:
    """The CLI prints with rich: SQL, names and errors are escaped, so `[ids]` is not read as markup."""
    (tmp_path / "marts.yaml").write_text(
        "target: duckdb:///wh.duckdb\n"
        "marts:\n"
        "  lists:\n"
        "    strategy: full\n"
        "    source: {query: 'select 1 as id, [ids] as ids from (select 2 as ids)'}\n"
    )
    result = runner.invoke(app, ["plan", str(tmp_path / "marts.yaml")])
    assert result.exit_code == 0, result.output
    assert "select 1 as id, [ids] as ids from (select 2 as ids)" in result.output
