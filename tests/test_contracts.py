"""Bad input gets a clear error naming the mart and column/option, and a failed load changes nothing:
not the rows, not the watermark, not the run log's past (one ``failed`` row is added)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from loaders import (
    CDC,
    SCD2,
    Append,
    DataContractError,
    FullReload,
    LoaderError,
    Merge,
    SchemaChangeError,
    SpecError,
    TargetError,
)
from loaders.project import parse_mart, parse_project

TS = datetime(2026, 1, 1)


def snapshot(engine: Any, table: str = "t") -> tuple[Any, ...]:
    return (
        engine.rows(table),
        engine.rows("_loaders_watermarks"),
        engine.rows("_loaders_runs", ["run_id", "status", "inserted", "error"]),
    )


def assert_unchanged_after_failure(engine: Any, before: tuple[Any, ...], table: str = "t") -> None:
    rows, watermarks, runs = snapshot(engine, table)
    assert rows == before[0], "target rows changed"
    assert watermarks == before[1], "watermark changed"
    assert set(before[2]) <= set(runs), "run log's past changed"
    added = [r for r in runs if r not in before[2]]
    assert len(added) == 1 and added[0][1] == "failed" and added[0][3]


@contextlib.contextmanager
def failing_on(prefix: str) -> Iterator[None]:
    """Make the statement starting with ``prefix`` fail mid-load (the failed-run log row still passes)."""
    import sqlalchemy as sa

    def boom(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(prefix) and "failed" not in str(args):
            raise RuntimeError("injected failure")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", boom)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", boom)


@pytest.fixture
def merged(engine: Any) -> Any:
    """A merge mart with a cursor, loaded once: something a failure must not touch."""
    Merge(keys=["id"], cursor="ts").run([{"id": 1, "v": "a", "ts": TS}], engine.url, table="t")
    return engine


BAD_BATCHES = {
    "null key": ([{"id": None, "v": "x", "ts": TS}], DataContractError, r"key column 'id' has NULLs"),
    "duplicate key": (
        [{"id": 2, "v": "x", "ts": TS}, {"id": 2, "v": "y", "ts": TS}],
        DataContractError,
        r"keys appear more than once in this batch, e\.g\. id=2 \(2 rows\)",
    ),
    "missing key column": ([{"v": "x", "ts": TS}], DataContractError, r"key column 'id' is not in the source"),
    "missing cursor column": ([{"id": 2, "v": "x"}], DataContractError, r"cursor column 'ts' is not in the source"),
    "null cursor": ([{"id": 2, "v": "x", "ts": None}], DataContractError, r"cursor column 'ts' has 1 NULLs"),
    "type change": (
        [{"id": 2, "v": 5, "ts": TS}],
        SchemaChangeError,
        r"column 'v': source type .* \(integer\) cannot go into target column .* \(string\)",
    ),
    "new column": (
        [{"id": 2, "v": "x", "ts": TS, "extra": 1}],
        SchemaChangeError,
        r"new columns 'extra'.*schema_change: add_columns",
    ),
}


@pytest.mark.parametrize("case", BAD_BATCHES, ids=list(BAD_BATCHES))
def test_bad_batch_is_rejected_and_changes_nothing(merged: Any, case: str) -> None:
    rows, error, pattern = BAD_BATCHES[case]
    before = snapshot(merged)
    with pytest.raises(error, match=pattern) as info:
        Merge(keys=["id"], cursor="ts").run(rows, merged.url, table="t", mart="dim_thing")
    assert str(info.value).startswith("mart dim_thing: ")
    assert "\n" not in str(info.value)
    assert_unchanged_after_failure(merged, before)


def test_failure_midway_rolls_back_statements_already_run(engine: Any) -> None:
    """The UPDATE succeeds, then the INSERT overflows an INTEGER column: nothing is kept."""
    if engine.name in ("sqlite", "generic"):
        pytest.skip("SQLite stores any integer in an INTEGER column; see the injected failure test")
    first = pa.table({"id": pa.array([1], pa.int64()), "n": pa.array([1], pa.int32()), "ts": pa.array([TS])})
    m = Merge(keys=["id"], cursor="ts")
    m.run(first, engine.url, table="t")
    before = snapshot(engine)
    second = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "n": pa.array([5, 2**40], pa.int64()),
            "ts": pa.array([datetime(2026, 2, 1)] * 2),
        }
    )
    with pytest.raises(TargetError):
        m.run(second, engine.url, table="t")
    assert_unchanged_after_failure(engine, before)


@pytest.mark.parametrize("fail_on", ["INSERT INTO t ", "INSERT INTO _loaders_runs"])
def test_injected_failure_after_data_statements_changes_nothing(merged: Any, fail_on: str) -> None:
    """A failure after the UPDATE ran (or as the run log is written) rolls back data and watermark."""

    before = snapshot(merged)
    rows = [{"id": 1, "v": "changed", "ts": datetime(2026, 1, 5)}, {"id": 2, "v": "new", "ts": datetime(2026, 1, 5)}]
    with failing_on(fail_on), pytest.raises(RuntimeError, match="injected"):
        Merge(keys=["id"], cursor="ts").run(rows, merged.url, table="t")
    assert_unchanged_after_failure(merged, before)  # the `failed` row itself is let through


def test_new_table_is_not_left_behind_by_a_failed_first_load(engine: Any) -> None:
    """Even where DDL commits implicitly (MariaDB, generic), a failed first load leaves no table."""
    with pytest.raises(DataContractError):
        Merge(keys=["id"], cursor="ts").run([{"id": 1, "ts": None}], engine.url, table="t")
    assert not engine.table_exists("t")
    with failing_on("INSERT INTO t "), pytest.raises(RuntimeError):
        Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t")
    assert not engine.table_exists("t")


def test_added_columns_are_undone_by_a_failed_load(merged: Any) -> None:

    before = snapshot(merged)
    with failing_on("INSERT INTO t "), pytest.raises(RuntimeError):
        Merge(keys=["id"], schema_change="add_columns").run(
            [{"id": 9, "v": "x", "ts": TS, "extra": 1}], merged.url, table="t"
        )
    assert_unchanged_after_failure(merged, before)


def test_new_columns_can_be_added(merged: Any) -> None:
    Merge(keys=["id"], cursor="ts", schema_change="add_columns").run(
        [{"id": 2, "v": "b", "ts": datetime(2026, 1, 2), "extra": 7}], merged.url, table="t"
    )
    assert merged.rows("t") == [(1, "a", TS, None), (2, "b", datetime(2026, 1, 2), 7)]


def test_source_missing_a_target_column_leaves_it_null(merged: Any) -> None:
    Merge(keys=["id"]).run([{"id": 2, "ts": TS}], merged.url, table="t")
    assert merged.rows("t") == [(1, "a", TS), (2, None, TS)]


@pytest.mark.parametrize(
    "loader",
    [
        SCD2(keys=["id"]),
        CDC(keys=["id"], sequence="ts"),
        Append(keys=["id"]),
        FullReload(keys=["id"]),
    ],
    ids=["scd2", "cdc", "append", "full"],
)
def test_every_keyed_strategy_rejects_duplicate_keys(engine: Any, loader: Any) -> None:
    rows = [{"id": 1, "op": "c", "ts": 1}, {"id": 1, "op": "c", "ts": 1}]
    with pytest.raises(DataContractError, match="more than one row|more than once"):
        loader.run(rows, engine.url, table="t")
    assert not engine.table_exists("t") or engine.rows("t") == []


def test_dedupe_by_keeps_latest_row_per_key(engine: Any) -> None:
    rows = [{"id": 1, "v": "old", "ts": 1}, {"id": 1, "v": "new", "ts": 2}, {"id": 2, "v": "x", "ts": 1}]
    Merge(keys=["id"], dedupe_by="ts").run(rows, engine.url, table="t")
    assert engine.rows("t") == [(1, "new", 2), (2, "x", 1)]


def test_dedupe_by_tie_is_an_error(engine: Any) -> None:
    rows = [{"id": 1, "v": "a", "ts": 1}, {"id": 1, "v": "b", "ts": 1}]
    with pytest.raises(DataContractError, match="same 'ts'.*cannot tell which row wins"):
        Merge(keys=["id"], dedupe_by="ts").run(rows, engine.url, table="t")


def test_cdc_unknown_op_is_an_error(engine: Any) -> None:
    with pytest.raises(DataContractError, match=r"op column 'op' has unknown codes \[\"'X'\"\]"):
        CDC(keys=["id"], sequence="lsn").run([{"op": "X", "id": 1, "lsn": 1}], engine.url, table="t")


def test_scd2_managed_column_clash(engine: Any) -> None:
    with pytest.raises(DataContractError, match="'valid_from' has the name of a column scd2 manages"):
        SCD2(keys=["id"]).run([{"id": 1, "valid_from": 1}], engine.url, table="t")


def test_strategy_switch_on_existing_table_is_explained(engine: Any) -> None:
    Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t")
    with pytest.raises(SchemaChangeError, match="has no column 'valid_from'.*another strategy"):
        SCD2(keys=["id"]).run([{"id": 1}], engine.url, table="t")


def test_missing_source_file(engine: Any, tmp_path: Any) -> None:
    with pytest.raises(LoaderError, match=r"mart t: no files match"):
        FullReload().run(str(tmp_path / "nope/*.parquet"), engine.url, table="t")


# --------------------------------------------------------------------------- spec errors
SPEC_ERRORS = {
    "unknown strategy": (
        {"strategy": "upsertt"},
        r"unknown strategy .upsertt.; valid strategies: full, append, merge, scd1, scd2, cdc, overwrite_window, "
        r"snapshot",
    ),
    "missing strategy": ({"keys": ["id"]}, r"missing `strategy`"),
    "unknown option": (
        {"strategy": "scd2", "keys": ["id"], "trak": ["a"]},
        r"unknown option 'trak'; valid options: .*track",
    ),
    "keys required": ({"strategy": "merge"}, r"strategy 'merge' needs `keys"),
    "bad enum": (
        {"strategy": "scd2", "keys": ["id"], "deletes": "drop"},
        r"deletes: invalid value 'drop'; expected 'ignore' or 'close'",
    ),
    "lookback without keys": ({"strategy": "append", "cursor": "ts", "lookback": "1 day"}, r"`lookback` needs `keys`"),
    "bad interval": (
        {"strategy": "append", "cursor": "ts", "keys": ["id"], "lookback": "3 fortnights"},
        r"unknown interval unit 'fortnights'",
    ),
    "snapshot with cursor": (
        {"strategy": "merge", "keys": ["id"], "delete_missing": True, "cursor": "ts"},
        r"cannot be combined with `cursor`",
    ),
    "cdc needs sequence": ({"strategy": "cdc", "keys": ["id"]}, r"sequence: Field required"),
    "bad source": ({"strategy": "full", "source": {"pth": "x"}}, r"source"),
    "source key typo": (
        {"strategy": "full", "source": {"qurey": "select 1"}},
        r"^mart dim_customer: source: needs `path: \.\.\.` \(files\), `query: \.\.\.` \(SQL\) or "
        r"`postgres_cdc: \{\.\.\.\}`; got qurey$",
    ),
    "query source option typo": (  # a query without url is valid: it runs inside the target
        {"strategy": "full", "source": {"query": "select 1", "ulr": "duckdb:///x.duckdb"}},
        r"source: unknown option 'ulr'; valid options: query, url$",
    ),
    "file source option typo": (
        {"strategy": "full", "source": {"path": "x.csv", "fromat": "csv"}},
        r"source: unknown option 'fromat'; valid options: format, path$",
    ),
}


@pytest.mark.parametrize("case", SPEC_ERRORS, ids=list(SPEC_ERRORS))
def test_spec_errors_name_the_mart_and_option(case: str) -> None:
    options, pattern = SPEC_ERRORS[case]
    with pytest.raises(SpecError, match=pattern) as info:
        parse_mart("dim_customer", options)
    assert str(info.value).startswith("mart dim_customer: ")


def test_project_level_errors() -> None:
    with pytest.raises(SpecError, match="needs `marts:`"):
        parse_project({"target": "duckdb:///x.duckdb"})
    with pytest.raises(SpecError, match="unknown option 'targt'"):
        parse_project({"targt": "x", "marts": {"a": {"strategy": "full", "source": {"path": "x.csv"}}}})
    with pytest.raises(SpecError, match=r"^mart a: needs `source: \{path: \.\.\.\}`"):
        parse_project({"marts": {"a": {"strategy": "full"}}})


def test_lookback_parsing() -> None:
    from datetime import timedelta

    from loaders.spec import parse_interval

    assert parse_interval("3 days") == timedelta(days=3)
    assert parse_interval("1 day 12 hours") == timedelta(days=1, hours=12)
    assert parse_interval("6h") == timedelta(hours=6)
    assert parse_interval("P2D") == timedelta(days=2)
    assert parse_interval(10) == 10
