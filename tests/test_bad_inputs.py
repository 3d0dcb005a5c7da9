"""The bad-input catalogue: each case is an input a user can give, what loaders does with it, and a test
on every engine where it applies. A refused input is a one-line error naming the mart (and the column
or option) and changes nothing: not the rows, not the watermark, not the run log's past.

``python tests/test_bad_inputs.py`` prints the catalogue as the README's table (with the cases that
other test modules cover, listed in ``ELSEWHERE``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from loaders import (
    CDC,
    SCD2,
    DataContractError,
    FullReload,
    LoaderError,
    Merge,
    SchemaChangeError,
    SourceError,
    SpecError,
    TargetError,
    TransientTargetError,
    load_mart,
    load_project,
    parse_mart,
)

TS = datetime(2026, 1, 1)
ALL = ("duckdb", "postgres", "mysql", "sqlite", "generic")


@dataclass
class Case:
    name: str
    given: str  #: the input, as a user would describe it
    behaviour: str  #: what loaders does
    error: type[Exception] | None  #: None: accepted, with the behaviour described
    pattern: str
    act: Callable[[Any, Path], Any]
    #: the mart first loaded into table ``t`` (its state must survive the bad input)
    setup: Callable[[Any], Any] | None = None
    engines: tuple[str, ...] = ALL


CASES: list[Case] = []


def case(given: str, behaviour: str, error: type[Exception] | None, pattern: str, **kw: Any) -> Any:
    def register(act: Callable[[Any, Path], Any]) -> Callable[[Any, Path], Any]:
        CASES.append(Case(act.__name__, given, behaviour, error, pattern, act, **kw))
        return act

    return register


def merged(engine: Any) -> None:
    Merge(keys=["id"], cursor="ts").run([{"id": 1, "v": "a", "ts": TS}], engine.url, table="t", mart="bad")


def run(loader: Any, source: Any, engine: Any, **kw: Any) -> Any:
    return loader.run(source, engine.url, table="t", mart="bad", **kw)


def typed(**columns: tuple[list[Any], pa.DataType]) -> pa.Table:
    return pa.table({name: pa.array(values, type) for name, (values, type) in columns.items()})


# --------------------------------------------------------------------------- empty sources (outages)
@case(
    "empty source for `full`",
    "refused (an empty extract is what an outage looks like); `allow_empty: true` lets it empty the mart",
    DataContractError,
    r"the source is empty, and full would remove all 1 current rows",
    setup=lambda e: FullReload().run([{"id": 1}], e.url, table="t", mart="bad"),
)
def empty_full(engine: Any, tmp: Path) -> Any:
    return run(FullReload(), typed(id=([], pa.int64())), engine)


@case(
    "empty source for `merge` with `delete_missing`",
    "refused unless `allow_empty: true`",
    DataContractError,
    r"the source is empty, and merge would remove all 1 current rows",
    setup=merged,
)
def empty_snapshot_merge(engine: Any, tmp: Path) -> Any:
    return run(Merge(keys=["id"], delete_missing=True), typed(id=([], pa.int64()), v=([], pa.string())), engine)


@case(
    "empty source for `scd2` with `deletes: close`",
    "refused unless `allow_empty: true`",
    DataContractError,
    r"the source is empty, and scd2 would remove all 1 current rows",
    setup=lambda e: SCD2(keys=["id"], deletes="close").run([{"id": 1, "v": "a"}], e.url, table="t", mart="bad"),
)
def empty_snapshot_scd2(engine: Any, tmp: Path) -> Any:
    return run(SCD2(keys=["id"], deletes="close"), typed(id=([], pa.int64()), v=([], pa.string())), engine)


# --------------------------------------------------------------------------- cursors and sequences
@case(
    "NULL cursor in a later incremental batch",
    "refused: a row without a cursor can never be loaded exactly once (the source filter keeps NULLs)",
    DataContractError,
    r"cursor column 'ts' has 1 NULLs",
    setup=merged,
)
def null_cursor_later(engine: Any, tmp: Path) -> Any:
    rows = typed(
        id=([2, 3], pa.int64()), v=(["b", "c"], pa.string()), ts=([None, datetime(2026, 1, 2)], pa.timestamp("us"))
    )
    return run(Merge(keys=["id"], cursor="ts"), rows, engine)


@case(
    "NULL sequence in a later cdc batch",
    "refused, on every engine",
    DataContractError,
    r"column 'seq' has 1 NULLs",
    setup=lambda e: CDC(keys=["id"], sequence="seq").run(
        [{"id": 1, "op": "I", "seq": 1}], e.url, table="t", mart="bad"
    ),
)
def null_sequence_later(engine: Any, tmp: Path) -> Any:
    rows = typed(id=([2, 3], pa.int64()), op=(["I", "U"], pa.string()), seq=([None, 5], pa.int64()))
    return run(CDC(keys=["id"], sequence="seq"), rows, engine)


@case(
    "a batch whose cursor goes backwards (every row at or below the watermark)",
    "accepted as a no-op: nothing loaded, the watermark stays (replays are idempotent)",
    None,
    "",
    setup=merged,
)
def cursor_backwards(engine: Any, tmp: Path) -> Any:
    result = run(Merge(keys=["id"], cursor="ts"), [{"id": 9, "v": "old", "ts": datetime(2025, 1, 1)}], engine)
    assert (result.inserted, result.updated, result.watermark_after) == (0, 0, TS)
    return result


@case(
    "the mart's cursor changed to another column (the stored watermark is the old column's)",
    "a spec error naming both columns and `loaders reset-watermark`, nothing changed",
    SpecError,
    "stored watermark is for cursor column 'ts'.*now 'seq'.*reset-watermark",
    setup=merged,
)
def cursor_column_changed(engine: Any, tmp: Path) -> Any:
    return run(Merge(keys=["id"], cursor="seq"), [{"id": 9, "v": "x", "ts": TS, "seq": 5}], engine)


@case(
    "cdc events for a key deleted earlier (an update, then a delete again)",
    "accepted: an update of a missing key inserts it, a delete of a missing key is a no-op",
    None,
    "",
)
def cdc_after_delete(engine: Any, tmp: Path) -> Any:
    cdc = CDC(keys=["id"], sequence="seq")
    cdc.run([{"id": 1, "v": "a", "op": "I", "seq": 1}, {"id": 2, "v": "b", "op": "I", "seq": 2}], engine.url, table="c")
    cdc.run([{"id": 1, "v": None, "op": "D", "seq": 3}], engine.url, table="c")
    cdc.run(
        [{"id": 1, "v": "again", "op": "U", "seq": 4}, {"id": 2, "v": None, "op": "D", "seq": 5}], engine.url, table="c"
    )
    result = cdc.run([{"id": 2, "v": None, "op": "D", "seq": 6}], engine.url, table="c")
    assert engine.rows("c", ["id", "v"]) == [(1, "again")] and result.deleted == 0
    return result


# --------------------------------------------------------------------------- type drift
@case(
    "a timestamp column that turns from naive to zoned between runs",
    "refused with the column and both types named",
    SchemaChangeError,
    r"column 'ts': source type .* \(timestamptz\) cannot go into target column .* \(timestamp\)",
    setup=merged,
    engines=("duckdb", "postgres"),  # MariaDB and SQLite have no zoned type: zoned values are stored as UTC
)
def naive_to_zoned(engine: Any, tmp: Path) -> Any:
    rows = typed(
        id=([2], pa.int64()),
        v=(["b"], pa.string()),
        ts=([datetime(2026, 1, 2, tzinfo=timezone.utc)], pa.timestamp("us", tz="UTC")),
    )
    return run(Merge(keys=["id"], cursor="ts"), rows, engine)


@case(
    "a timestamp column that turns from zoned to naive between runs",
    "refused with the column and both types named",
    SchemaChangeError,
    r"column 'ts': source type .* \(timestamp\) cannot go into target column .* \(timestamptz\)",
    setup=lambda e: Merge(keys=["id"], cursor="ts").run(
        typed(id=([1], pa.int64()), ts=([datetime(2026, 1, 1, tzinfo=timezone.utc)], pa.timestamp("us", tz="UTC"))),
        e.url,
        table="t",
        mart="bad",
    ),
    engines=("duckdb", "postgres"),
)
def zoned_to_naive(engine: Any, tmp: Path) -> Any:
    return run(
        Merge(keys=["id"], cursor="ts"),
        typed(id=([2], pa.int64()), ts=([datetime(2026, 1, 2)], pa.timestamp("us"))),
        engine,
    )


@case(
    "a value too large for the existing (narrower) integer column",
    "the database refuses it: a terminal TargetError (not retried), nothing kept",
    TargetError,
    r"mart bad: .*",
    setup=lambda e: _narrow_table(e),
    engines=("duckdb", "postgres", "mysql"),  # SQLite stores any integer in an INTEGER column
)
def narrowing(engine: Any, tmp: Path) -> Any:
    with pytest.raises(TargetError) as info:
        run(Merge(keys=["id"]), [{"id": 2, "n": 2**40}], engine)
    assert not info.value.transient
    raise info.value


def _narrow_table(engine: Any) -> None:
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    with e.begin() as conn:
        conn.exec_driver_sql("create table t (id bigint, n integer)")
    e.dispose()
    Merge(keys=["id"]).run([{"id": 1, "n": 1}], engine.url, table="t", mart="bad")


@case(
    "an unsigned 64-bit value above the signed range, on SQLite (and the generic path)",
    "refused (SQLite would keep it as an inexact REAL); other engines store it exactly",
    DataContractError,
    r"column 'id' holds 9223372036854775813, above the largest integer",
    engines=("sqlite", "generic"),
)
def uint64_overflow(engine: Any, tmp: Path) -> Any:
    return run(FullReload(), typed(id=([2**63 + 5], pa.uint64())), engine)


@case(
    "a NaN in a float key",
    "refused: NaN cannot identify a row",
    DataContractError,
    r"key column 'k' has NaN",
    setup=None,
)
def nan_key(engine: Any, tmp: Path) -> Any:
    return run(Merge(keys=["k"]), [{"k": 1.5, "v": "a"}, {"k": float("nan"), "v": "b"}], engine)


@case(
    "a NaN in a float key of a Parquet file DuckDB reads itself",
    "refused as from a stream: NaN cannot identify a row",
    DataContractError,
    r"key column 'k' has NaN",
    setup=None,
    engines=("duckdb",),
)
def nan_key_in_place(engine: Any, tmp: Path) -> Any:
    pq.write_table(pa.table({"k": [1.5, float("nan")], "v": ["a", "b"]}), tmp / "nan.parquet")
    return run(Merge(keys=["k"]), str(tmp / "nan.parquet"), engine)


# --------------------------------------------------------------------------- broken files
def _big_csv(tmp: Path, last: str) -> Path:
    path = tmp / "big.csv"
    with path.open("w") as f:
        f.write("id,v\n")
        f.writelines(f"{i},{i}\n" for i in range(1, 300_001))
        f.write(last)
    return path


@case(
    "a CSV with a ragged line far into the file (past the first block read)",
    "refused with the file and the row number",
    SourceError,
    r"cannot read .*big\.csv: CSV parse error: Row #300002: Expected 2 columns, got 3",
    engines=("duckdb", "sqlite"),
)
def ragged_csv_late(engine: Any, tmp: Path) -> Any:
    return run(FullReload(), str(_big_csv(tmp, "x,y,z\n")), engine)


@case(
    "a CSV value that stops parsing as its column's type far into the file",
    "refused with the column and the row number",
    SourceError,
    r"cannot read .*big\.csv: In CSV column #1: Row #300002: CSV conversion error to int64",
    engines=("duckdb", "sqlite"),
)
def csv_type_change_late(engine: Any, tmp: Path) -> Any:
    return run(FullReload(), str(_big_csv(tmp, "5,abc\n")), engine)


@case("a truncated Parquet file", "refused, naming the file", SourceError, r"mart bad: cannot read .*half\.parquet")
def truncated_parquet(engine: Any, tmp: Path) -> Any:
    whole = tmp / "whole.parquet"
    pq.write_table(pa.table({"id": list(range(1000))}), whole)
    half = tmp / "half.parquet"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return run(FullReload(), str(half), engine)


@case(
    "a file that is not what its name says (random bytes as .parquet)",
    "refused, naming the file",
    SourceError,
    r"mart bad: cannot read .*junk\.parquet",
)
def corrupt_file(engine: Any, tmp: Path) -> Any:
    junk = tmp / "junk.parquet"
    junk.write_bytes(b"PAR1 this is not parquet at all \x00\x01\x02")
    return run(FullReload(), str(junk), engine)


# --------------------------------------------------------------------------- names
@case(
    "table and column names with quotes, unicode and SQL-injection text",
    "accepted as names: quoted by the dialect, never executed",
    None,
    "",
    engines=ALL,
)
def hostile_names(engine: Any, tmp: Path) -> Any:
    column, table = 'v"; drop table t; --', "t'; drop table x; -- ünïcödé"
    if engine.name == "mysql":
        table = "t'; drop table x; -- unicode é"  # MariaDB table names map to files: keep them shorter
    result = Merge(keys=["id"]).run([{"id": 1, column: "a", "città": "Zürich"}], engine.url, table=table)
    assert result.inserted == 1
    assert engine.rows(table, ["id", column, "città"]) == [(1, "a", "Zürich")]
    return result


# --------------------------------------------------------------------------- targets, URLs, windows
@case(
    "a target URL that does not parse (a port that is not a number)",
    "a spec error naming the URL, password hidden",
    SpecError,
    r"^'postgresql://u:\*\*\*@h:port/db' is not a SQLAlchemy URL",
    engines=("duckdb",),
)
def bad_url(engine: Any, tmp: Path) -> Any:
    with pytest.raises(SpecError) as info:
        FullReload().run([{"id": 1}], "postgresql://u:s3cret@h:port/db", table="t")
    assert "s3cret" not in str(info.value)
    raise info.value


@case(
    "a target server that is not there (nothing listening on the port)",
    "a transient error (Airflow retries it), one line, no password",
    TransientTargetError,
    r"mart bad: .*127\.0\.0\.1",
    engines=("postgres", "mysql"),
)
def unreachable(engine: Any, tmp: Path) -> Any:
    url = sa.engine.make_url(engine.sa_url).set(port=9, password="s3cret").render_as_string(hide_password=False)
    with pytest.raises(TransientTargetError) as info:
        FullReload().run([{"id": 1}], url, table="t", mart="bad")
    assert "s3cret" not in str(info.value)
    raise info.value


@case(
    "a backfill window whose --from is not before --to",
    "a spec error; nothing is loaded",
    SpecError,
    r"--from 2026-01-05 00:00:00 is not before --to 2026-01-01 00:00:00",
    setup=merged,
)
def window_backwards(engine: Any, tmp: Path) -> Any:
    spec = parse_mart("bad", {"strategy": "merge", "keys": ["id"], "cursor": "ts", "table": "t"})
    rows = [{"id": 2, "v": "b", "ts": datetime(2026, 1, 3)}]
    return load_mart("bad", spec, engine.url, source=rows, window=("2026-01-05", "2026-01-01"))


# --------------------------------------------------------------------------- marts files
@case(
    "a marts file with a YAML syntax error",
    "a spec error with the line",
    SpecError,
    r"not valid YAML",
    engines=("duckdb",),
)
def yaml_error(engine: Any, tmp: Path) -> Any:
    path = tmp / "marts.yaml"
    path.write_text("marts:\n  a: {strategy: full\n")
    return load_project(path)


@case(
    "a marts file that does not exist",
    "a spec error naming the path",
    SpecError,
    r"cannot read marts file",
    engines=("duckdb",),
)
def marts_file_missing(engine: Any, tmp: Path) -> Any:
    return load_project(tmp / "nope.yaml")


@case(
    "a mart in a marts file without `source`",
    "a spec error at `loaders validate`",
    SpecError,
    r"mart a: needs `source",
    engines=("duckdb",),
)
def mart_without_source(engine: Any, tmp: Path) -> Any:
    path = tmp / "marts.yaml"
    path.write_text("marts:\n  a: {strategy: full}\n")
    return load_project(path)


@case(
    "an option of the wrong type (`keys: id` instead of a list)",
    "a spec error naming the option",
    SpecError,
    r"mart bad: keys: Input should be a valid list",
    engines=("duckdb",),
)
def wrong_option_type(engine: Any, tmp: Path) -> Any:
    return parse_mart("bad", {"strategy": "merge", "keys": "id"})


# --------------------------------------------------------------------------- the harness
def state_of(engine: Any, table: str) -> tuple[Any, ...]:
    def rows(name: str, columns: list[str] | None = None) -> list[Any]:
        return engine.rows(name, columns) if engine.table_exists(name) else []

    return rows(table), rows("_loaders_watermarks"), rows("_loaders_runs", ["run_id", "status", "inserted", "error"])


@pytest.mark.parametrize(
    ("engine", "case"),
    [(e, c) for c in CASES for e in c.engines],
    ids=[f"{e}-{c.name}" for c in CASES for e in c.engines],
    indirect=["engine"],
)
def test_bad_input(engine: Any, case: Case, tmp_path: Path) -> None:
    if case.setup:
        case.setup(engine)
    before = state_of(engine, "t")
    if case.error is None:
        case.act(engine, tmp_path)
        return
    with pytest.raises(case.error, match=case.pattern) as info:
        case.act(engine, tmp_path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    if isinstance(info.value, LoaderError) and info.value.mart is None:
        assert isinstance(info.value, SpecError), "only spec errors found before a mart is known may omit it"
    after = state_of(engine, "t")
    assert after[0] == before[0], "rows changed"
    assert after[1] == before[1], "watermark changed"
    assert set(before[2]) <= set(after[2]), "the run log's past changed"
    added = [r for r in after[2] if r not in before[2]]
    assert all(r[1] == "failed" for r in added) and len(added) <= 1


#: cases tested in other modules: (input, behaviour, test)
ELSEWHERE = [
    (
        "NULL in a key column",
        "refused, with the count",
        "test_contracts.py::test_bad_batch_is_rejected_and_changes_nothing[null key]",
    ),
    (
        "duplicate keys in a batch",
        "refused with an example key; `dedupe_by` keeps the latest",
        "test_contracts.py::…[duplicate key], test_every_keyed_strategy_rejects_duplicate_keys",
    ),
    (
        "a key column missing from the source",
        "refused, listing the source columns",
        "test_contracts.py::…[missing key column]",
    ),
    ("a cursor column missing from the source", "refused", "test_contracts.py::…[missing cursor column]"),
    ("NULL cursor on a first load", "refused", "test_contracts.py::…[null cursor]"),
    ("type drift: integers into a text column", "refused with both types", "test_contracts.py::…[type change]"),
    (
        "a new source column",
        "refused unless `schema_change: add_columns`",
        "test_contracts.py::…[new column], test_new_columns_can_be_added",
    ),
    (
        "a dropped source column",
        "accepted: NULL on insert, the stored value kept on update",
        "test_contracts.py::test_source_missing_a_target_column_leaves_it_null",
    ),
    (
        "a dedupe tie (two rows, same key and dedupe value)",
        "refused",
        "test_contracts.py::test_dedupe_by_tie_is_an_error",
    ),
    ("an unknown cdc op code", "refused, listing the codes", "test_contracts.py::test_cdc_unknown_op_is_an_error"),
    (
        "a source column named like a managed column (valid_from)",
        "refused",
        "test_contracts.py::test_scd2_managed_column_clash",
    ),
    (
        "another strategy's table as the target",
        "refused, saying which column is missing",
        "test_contracts.py::test_strategy_switch_on_existing_table_is_explained",
    ),
    ("a source file that does not exist", "refused, naming the glob", "test_contracts.py::test_missing_source_file"),
    (
        "an out-of-order SCD2 change",
        "refused (versions would overlap)",
        "test_conformance.py::test_scd2_out_of_order_change_fails_and_changes_nothing",
    ),
    (
        "a failure mid-load (an overflowing INSERT after an UPDATE)",
        "everything rolled back",
        "test_contracts.py::test_failure_midway_rolls_back_statements_already_run",
    ),
    (
        "unknown strategy / missing strategy / unknown option / bad enum value",
        "spec errors listing the valid names",
        "test_contracts.py::test_spec_errors_name_the_mart_and_option",
    ),
    (
        "`lookback` without keys, a bad interval, `delete_missing` with a cursor, cdc without `sequence`",
        "spec errors naming the option",
        "test_contracts.py::test_spec_errors_name_the_mart_and_option",
    ),
    (
        "a mistyped source key (`qurey:`), a query or file option typo",
        "spec errors naming the key",
        "test_contracts.py::test_spec_errors_name_the_mart_and_option",
    ),
    ("an unknown mart name on the command line", "exit 2, listing the marts", "test_cli.py::test_unknown_mart_name"),
    (
        "a merge `method:` the engine lacks",
        "UnsupportedByTarget before any SQL runs",
        "test_conformance.py::test_merge_updates_inserts_and_keeps_unchanged",
    ),
    ("a wrong password", "refused; the password is never shown", "test_engines.py::test_password_never_shown"),
    ("a 100 KB value", "stored as it is", "test_engines.py::test_types_round_trip"),
    (
        "a second run while the first holds the mart's lock",
        "TargetLocked, fast (transient)",
        "test_engines.py::test_second_run_of_same_mart_fails_fast_while_first_holds_lock",
    ),
    (
        "a terminal database error (NOT NULL violation)",
        "TargetError, not retried by Airflow",
        "test_engines.py::test_a_terminal_database_error_is_not_transient",
    ),
    (
        "the server ending the session mid-load",
        "TransientTargetError, nothing kept, the retry is right",
        "test_engines.py::test_a_lost_connection_is_transient",
    ),
    ("a failed health check", "refused with the check's detail", "test_health.py"),
    (
        "a batch larger than memory (a big Parquet file)",
        "streamed a row group at a time: Arrow memory under a third of the batch",
        "test_streaming.py::test_a_big_parquet_batch_streams (every engine)",
    ),
]


def catalogue() -> str:
    lines = ["| input | behaviour | test |", "|---|---|---|"]
    for c in CASES:
        where = "every engine" if c.engines == ALL else ", ".join(c.engines)
        lines.append(f"| {c.given} | {c.behaviour} | `test_bad_inputs.py::{c.name}` ({where}) |")
    lines += [f"| {given} | {behaviour} | `{test}` |" for given, behaviour, test in ELSEWHERE]
    return "\n".join(lines)


def test_readme_shows_this_catalogue() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert catalogue() in readme, "README's bad-input table is stale: paste `python tests/test_bad_inputs.py`"


if __name__ == "__main__":
    sys.stdout.write(catalogue() + "\n")
