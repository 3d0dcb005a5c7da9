"""A query source without `url` (or with the target's own) runs inside the target: the target stages
its result with CREATE TEMPORARY TABLE ... AS, and no row passes through Python. Every strategy, on
every engine, gives the same table as loading the same rows streamed through Arrow."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from loaders import CDC, SCD2, Append, FullReload, Merge, OverwriteWindow, SourceError
from loaders.spec import QuerySource

T0 = datetime(2026, 3, 1, 12, 0, 0)


def write_source(engine: Any, rows: list[dict[str, Any]], types: dict[str, Any]) -> None:
    """The source table `src`, in the target's own database, holding exactly ``rows``."""
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    src = sa.Table("src", sa.MetaData(), *(sa.Column(n, t) for n, t in types.items()))
    with e.begin() as conn:
        src.drop(conn, checkfirst=True)
        src.create(conn)
        if rows:
            conn.execute(src.insert(), rows)
    e.dispose()


KV = {"id": sa.Integer(), "v": sa.String(20), "amount": sa.Numeric(10, 2), "ts": sa.DateTime()}
FEED = {"id": sa.Integer(), "op": sa.String(1), "seq": sa.Integer(), "v": sa.String(20)}
DAY = {"day": sa.Date(), "id": sa.Integer(), "v": sa.String(20)}


def kv(i: int, v: str, days: int = 0) -> dict[str, Any]:
    return {"id": i, "v": v, "amount": Decimal(f"{i}.25"), "ts": T0 + timedelta(days=days)}


CASES: dict[str, tuple[Any, dict[str, Any], list[list[dict[str, Any]]], str]] = {
    "full": (FullReload(keys=["id"]), KV, [[kv(1, "a"), kv(2, "b")], [kv(2, "B"), kv(3, "c")]], "select * from src"),
    "append": (
        Append(cursor="ts"),
        KV,
        [[kv(1, "a", 0), kv(2, "b", 1)], [kv(1, "a", 0), kv(2, "b", 1), kv(3, "c", 2)]],
        "select * from src where :watermark is null or ts > :watermark",
    ),
    "append_wrapped": (  # no :watermark in the query: it is wrapped with `cursor > watermark`
        Append(cursor="ts", lookback="1 day", keys=["id"]),
        KV,
        [[kv(1, "a", 0), kv(2, "b", 1)], [kv(2, "b", 1), kv(4, "late", 1), kv(3, "c", 2)]],
        "select * from src",
    ),
    "merge": (
        Merge(keys=["id"], delete_missing=True),
        KV,
        [[kv(1, "a"), kv(2, "b")], [kv(2, "B"), kv(3, "c")]],
        "select id, v, amount, ts from src",
    ),
    "scd2": (
        SCD2(keys=["id"], track=["v"], effective_from="ts", deletes="close"),
        KV,
        [[kv(1, "a"), kv(2, "b")], [kv(2, "B", 1), kv(3, "c", 1)]],
        "select * from src",
    ),
    "cdc": (
        CDC(keys=["id"], sequence="seq"),
        FEED,
        [
            [{"id": 1, "op": "c", "seq": 1, "v": "a"}, {"id": 2, "op": "c", "seq": 2, "v": "b"}],
            [{"id": 1, "op": "d", "seq": 3, "v": None}, {"id": 2, "op": "u", "seq": 4, "v": "B"}],
        ],
        "select * from src",
    ),
    "overwrite_window": (
        OverwriteWindow(partition_by="day"),
        DAY,
        [
            [{"day": T0.date(), "id": 1, "v": "a"}, {"day": T0.date() + timedelta(1), "id": 2, "v": "b"}],
            [{"day": T0.date() + timedelta(1), "id": 3, "v": "c"}],
        ],
        "select * from src",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_strategy_loads_a_query_inside_the_target(engine: Any, case: str) -> None:
    if engine.name == "generic":
        pytest.skip("the portable adapter streams a query's rows, and SQLite (its test engine) types none of them")
    loader, types, batches, query = CASES[case]
    for n, rows in enumerate(batches):
        write_source(engine, rows, types)
        at = T0 + timedelta(days=10 + n)  # SCD2 closes deleted keys at the run's time: the same for both
        via_target = loader.run(QuerySource(query=query), engine.url, table="m_query", run_time=at)
        via_arrow = loader.run(rows, engine.url, table="m_arrow", run_time=at)
        assert (via_target.status, via_target.rows_in) == ("success", via_arrow.rows_in)
        assert via_target.watermark_after == via_arrow.watermark_after
        assert engine.rows("m_query") == engine.rows("m_arrow")
    assert engine.rows("m_query")  # the loads did something


def test_no_row_passes_through_python(engine: Any) -> None:
    """The plan shows the stage filled by the engine from the query, and no rows sent to it. (The
    generic adapter knows no engine's types, so it reads the rows over the load's own connection.)"""
    if engine.name == "generic":
        pytest.skip("the portable adapter streams the query's rows through the load's own connection")
    write_source(engine, [kv(1, "a"), kv(2, "b")], KV)
    plan = Merge(keys=["id"]).run(QuerySource(query="select * from src"), engine.url, table="m", plan=True)
    filled = [s for s in plan.sql if s.upper().startswith(("CREATE TEMP", "INSERT INTO")) and "from src" in s]
    assert filled, plan.sql
    assert not any("_loaders_stage" in s and "VALUES" in s.upper() for s in plan.sql)


def test_a_query_naming_the_targets_own_url_runs_inside_it(engine: Any) -> None:
    """Naming the target's URL is the same as leaving `url` out (on DuckDB a second connection to the
    file being written would not even open)."""
    write_source(engine, [kv(1, "a")], KV)
    r = Merge(keys=["id"]).run(QuerySource(query="select * from src", url=engine.url), engine.url, table="m", plan=True)
    assert any(s.upper().startswith("CREATE TEMP") for s in r.sql)
    Merge(keys=["id"]).run(QuerySource(query="select * from src", url=engine.url), engine.url, table="m")
    assert [r[:2] for r in engine.rows("m")] == [(1, "a")]


def test_a_bad_query_is_a_source_error_and_changes_nothing(engine: Any) -> None:
    write_source(engine, [kv(1, "a")], KV)
    Merge(keys=["id"]).run(QuerySource(query="select * from src"), engine.url, table="m")
    with pytest.raises(SourceError, match="mart m: query on the target failed: .*no_such_table"):
        Merge(keys=["id"]).run(QuerySource(query="select * from no_such_table"), engine.url, table="m")
    with pytest.raises(Exception, match="mart m: key column 'id' is not in the source"):
        Merge(keys=["id"]).run(QuerySource(query="select v from src"), engine.url, table="m")
    assert [r[:2] for r in engine.rows("m")] == [(1, "a")]
    assert engine.rows("_loaders_runs", ["status"]) == [("failed",), ("failed",), ("success",)]


def test_percent_signs_and_colons_in_the_query_stay_as_written(engine: Any) -> None:
    """`%` (a placeholder to some drivers) and colons other than `:watermark` are the query's own."""
    write_source(engine, [kv(1, "ab"), kv(2, "b")], KV)
    query = "select id, v, 'x%y' as pct, '12:30' as at_time from src where v like 'a%'"
    Merge(keys=["id"]).run(QuerySource(query=query), engine.url, table="m")
    assert engine.rows("m") == [(1, "ab", "x%y", "12:30")]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"], indirect=True)
def test_a_nan_key_from_a_query_is_refused(engine: Any) -> None:
    """As for a streamed batch: NaN cannot identify a row (engines that store NaN only)."""
    query = "select cast('NaN' as double precision) as k, 'a' as v union all select 1.5, 'b'"
    with pytest.raises(Exception, match="mart m: key column 'k' has NaN"):
        Merge(keys=["k"]).run(QuerySource(query=query), engine.url, table="m")


@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Oslo"])
def test_parquet_read_in_place_by_duckdb_matches_the_arrow_path(engine: Any, tmp_path: Path, zone: Any) -> None:
    """DuckDB stages Parquet itself; an incremental append over files that arrive in two runs, with a
    naive or zoned cursor, gives the rows and watermark the Arrow path gives."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def part(n: int, ids: range) -> pa.Table:
        ts = pa.array([T0 + timedelta(hours=i) for i in ids], pa.timestamp("us", tz=zone))
        return pa.table({"id": pa.array(ids, pa.int64()), "ts": ts})

    folder = tmp_path / "parts"
    folder.mkdir()
    loader = Append(cursor="ts")
    for n, ids in enumerate((range(0, 5), range(5, 9))):
        pq.write_table(part(n, ids), folder / f"part{n}.parquet")
        in_place = loader.run(str(folder), engine.url, table="m_files")
        arrow = loader.run(pq.read_table(folder), engine.url, table="m_arrow")
        assert (in_place.inserted, in_place.watermark_after) == (arrow.inserted, arrow.watermark_after)
        assert in_place.inserted == len(ids)
    assert engine.rows("m_files") == engine.rows("m_arrow") and len(engine.rows("m_files")) == 9
    plan = loader.run(str(folder), engine.url, table="m_files", plan=True)
    assert any("read_parquet" in s for s in plan.sql)
