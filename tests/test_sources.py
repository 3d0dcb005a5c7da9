"""Sources: file formats and globs, SQL queries with the watermark pushed down, in-memory data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from loaders import Append, FullReload, SourceError
from loaders.sources import FileSource, Pushdown, QuerySource, as_source
from loaders.spec import QuerySource as QuerySpec


def test_csv_jsonl_and_globs(tmp_path: Path, duck) -> None:
    pcsv.write_csv(pa.table({"id": [1, 2]}), tmp_path / "a.csv")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"id": i}) for i in (3, 4)))
    pq.write_table(pa.table({"id": [5]}), tmp_path / "p1.parquet")
    pq.write_table(pa.table({"id": [6]}), tmp_path / "p2.parquet")
    for path, expected in [("a.csv", [1, 2]), ("b.jsonl", [3, 4]), ("p*.parquet", [5, 6])]:
        FullReload().run(str(tmp_path / path), duck.url, table="t")
        assert [r[0] for r in duck.rows("t")] == expected


def test_file_pushdown_reads_only_rows_past_watermark(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1, 2, 3]}), tmp_path / "x.parquet")
    reader = FileSource(str(tmp_path / "x.parquet")).read(Pushdown("id", 1))
    assert reader.read_all().column("id").to_pylist() == [2, 3]


def test_mixed_formats_need_an_explicit_format(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    (tmp_path / "b.txt").write_text("x")
    with pytest.raises(SourceError, match="set `format"):
        FileSource(str(tmp_path / "*")).read()


def test_query_source_pushes_watermark_down(tmp_path: Path, duck) -> None:
    src_db = tmp_path / "src.duckdb"
    con = duckdb.connect(str(src_db))
    con.execute(
        "create table orders as select range as id, timestamp '2026-01-01' + to_days(range::int) as ts from range(5)"
    )
    con.close()
    src = QuerySource("select id, ts from orders", f"duckdb:///{src_db}")
    a = Append(cursor="ts")
    r = a.run(src, duck.url, table="t")
    assert r.inserted == 5
    con = duckdb.connect(str(src_db))
    con.execute("insert into orders values (5, timestamp '2026-01-06'), (1, timestamp '2025-01-01')")
    con.close()
    r = a.run(src, duck.url, table="t")
    assert r.inserted == 1 and r.rows_in == 1 and r.watermark_after == datetime(2026, 1, 6)
    wrapped = "select * from (select id, ts from orders) as _loaders_src where ts > :watermark or ts is null"
    statement = src.statement(Pushdown("ts", 5), sa.create_engine("duckdb://").dialect)
    assert str(statement) == wrapped and statement.compile().params == {"watermark": 5}


def test_query_source_explicit_watermark_parameter(tmp_path: Path) -> None:
    src = QuerySource("select 1 as id where :watermark is null or 1 > :watermark", "duckdb:///:memory:")
    assert src.read(Pushdown("id", None)).read_all().num_rows == 1
    assert src.read(Pushdown("id", 5)).read_all().num_rows == 0


def test_query_source_hides_password() -> None:
    src = as_source(QuerySpec(query="select 1", url="postgresql+psycopg://u:s3cret@db/x"))
    assert "s3cret" not in src.describe() and "***" in src.describe()


def test_in_memory_sources(duck) -> None:
    FullReload().run([{"id": 1}], duck.url, table="t")
    FullReload().run(pa.table({"id": [2]}), duck.url, table="t2")
    reader = pa.RecordBatchReader.from_batches(pa.schema([("id", pa.int64())]), [pa.record_batch({"id": [3, 4]})])
    FullReload().run(reader, duck.url, table="t3")
    assert duck.rows("t") == [(1,)] and duck.rows("t2") == [(2,)] and duck.rows("t3") == [(3,), (4,)]


def test_glob_across_a_schema_change_keeps_new_columns(tmp_path: Path, duck) -> None:
    pq.write_table(pa.table({"id": [1], "ts": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"id": [2], "ts": [2], "channel": ["web"]}), tmp_path / "b.parquet")
    Append(cursor="ts").run(str(tmp_path / "a.parquet"), duck.url, table="t")
    Append(cursor="ts", schema_change="add_columns").run(str(tmp_path / "*.parquet"), duck.url, table="t")
    assert duck.rows("t") == [(1, 1, None), (2, 2, "web")]


def test_watermark_binds_only_outside_literals_names_and_comments() -> None:
    from loaders.sources.sql import bind_watermark

    text, found = bind_watermark(
        "select ':watermark' as s, \"a:watermark\" as n, x::int -- :watermark\nfrom t where ts > :watermark"
    )
    assert found
    assert text == (
        "select '\\:watermark' as s, \"a\\:watermark\" as n, x\\:\\:int -- \\:watermark\nfrom t where ts > :watermark"
    )
    assert bind_watermark("select '12:30' as t")[1] is False


def test_query_source_keeps_colons_in_literals(duck: Any, tmp_path: Path) -> None:
    """A colon in a string literal is data, on DuckDB (its own Arrow reader) and SQLite (SQLAlchemy)."""
    import duckdb

    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as con:
        con.execute("create table e as select 1 as id, timestamp '2026-01-02' as ts")
    sqlite = tmp_path / "src.db"
    import sqlite3

    with sqlite3.connect(sqlite) as con:
        con.execute("create table e (id int, ts text)")
        con.execute("insert into e values (1, '2026-01-02')")
    for url in (f"duckdb:///{src}", f"sqlite:///{sqlite}"):
        query = "select id, ':watermark at 12:30' as note from e where :watermark is null or ts > :watermark"
        reader = QuerySource(query, url).read(Pushdown("ts", None))
        assert reader.read_all().to_pylist() == [{"id": 1, "note": ":watermark at 12:30"}], url
