"""Which SQL applies a cdc batch's upserts fastest on each engine, with the exact counts loaders reports.

cdc's last step writes the events that insert or update. Shapes, each over the same 1M-row table
(unique index on the key) and the same 180k deduplicated events (1 in 16 a delete, a third of them new
keys), inside a transaction that is rolled back:

- ``update+insert``: UPDATE ... WHERE a value changed, then INSERT ... WHERE NOT EXISTS (two joins);
- ``count+upsert``: count the new keys, then INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE a value
  changed (PostgreSQL, SQLite; the count splits the upsert's one row count into inserted/updated);
- ``count+merge``: count the new keys, then MERGE ... WHEN MATCHED AND a value changed (DuckDB, PostgreSQL);
- ``hand``: what a data engineer writes when counts do not matter: an unconditional upsert or MERGE.

    python benchmarks/cdc_shapes.py [--rows 1000000] [--repeat 5] [--pg URL]

loaders picks the upsert on PostgreSQL and SQLite (where the table has the unique index) and the
pair elsewhere; this script is the measurement behind that choice.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

UPSERT_OPS = "b.op IN ('I','i','C','c','R','r','U','u')"
SET = "name = {s}.name, city = {s}.city, amount = {s}.amount, lsn = {s}.lsn"


def distinct(engine: str, t: str, s: str) -> str:
    op = "IS NOT" if engine == "sqlite" else "IS DISTINCT FROM"
    return "(" + " OR ".join(f"{t}.{c} {op} {s}.{c}" for c in ("name", "city", "amount", "lsn")) + ")"


def shapes(engine: str) -> dict[str, list[str]]:
    count = f"SELECT count(*) FROM b WHERE {UPSERT_OPS} AND NOT EXISTS (SELECT 1 FROM t WHERE t.id = b.id)"
    insert = "INSERT INTO t (id, name, city, amount, lsn) SELECT b.id, b.name, b.city, b.amount, b.lsn FROM b"
    out = {
        "update+insert": [
            f"UPDATE t SET {SET.format(s='b')} FROM b WHERE t.id = b.id AND {UPSERT_OPS} AND {distinct(engine, 't', 'b')}",
            f"{insert} WHERE {UPSERT_OPS} AND NOT EXISTS (SELECT 1 FROM t x WHERE x.id = b.id)",
        ]
    }
    if engine in ("postgres", "sqlite"):
        conflict = f"ON CONFLICT (id) DO UPDATE SET {SET.format(s='excluded')}"
        out["count+upsert"] = [
            count,
            f"{insert} WHERE {UPSERT_OPS} {conflict} WHERE {distinct(engine, 't', 'excluded')}",
        ]
        out["hand"] = [f"{insert} WHERE b.op <> 'd' {conflict}"]
    if engine in ("duckdb", "postgres"):
        merge = (
            f"MERGE INTO t USING (SELECT * FROM b WHERE {UPSERT_OPS}) s ON t.id = s.id WHEN MATCHED {{}}THEN "
            f"UPDATE SET {SET.format(s='s')} WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, s.city, s.amount, s.lsn)"
        )
        out["count+merge"] = [count.replace("b.op", "op"), merge.format(f"AND {distinct(engine, 't', 's')} ")]
        if engine == "duckdb":
            out["hand"] = [merge.format("")]
    return out


def setup(engine: str, conn: sa.Connection, rows: int) -> None:
    """The table (once) and the events; integers from a generator each engine has."""
    x = conn.exec_driver_sql
    series = {
        "duckdb": "SELECT range AS i FROM range({n})",
        "postgres": "SELECT generate_series(0, {n} - 1) AS i",
        "sqlite": "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < {n} - 1) SELECT i FROM r",
    }[engine]
    text = "CAST(i AS TEXT)" if engine != "duckdb" else "CAST(i AS VARCHAR)"

    def mod(a: str, b: int) -> str:  # psycopg reads a bare % as a placeholder
        return f"mod({a}, {b})" if engine == "postgres" else f"{a} % {b}"

    x("DROP TABLE IF EXISTS t_base")
    x(
        f"CREATE TABLE t_base AS SELECT i AS id, 'n' || {text} AS name, 'c' || CAST({mod('i', 100)} AS TEXT) AS city, "
        f"i * 1.5 AS amount, i AS lsn FROM ({series.format(n=rows)}) g"
    )
    key = "(i * 8)"  # keys up to 1.44M: 125k updates, 55k new keys
    x("DROP TABLE IF EXISTS b")
    x(
        f"CREATE TABLE b AS SELECT CASE WHEN {mod('i', 16)} = 0 THEN 'd' ELSE 'u' END AS op, {key} AS id, "
        f"CASE WHEN {mod('i', 3)} = 0 THEN 'n' || CAST({key} AS TEXT) ELSE 'x' || CAST(i AS TEXT) END AS name, "
        f"'c' || CAST({mod(key, 100)} AS TEXT) AS city, {key} * 1.5 AS amount, {rows} + i AS lsn "
        f"FROM ({series.format(n=rows * 18 // 100)}) g"
    )
    if engine != "duckdb":
        x("CREATE INDEX ix_b ON b (id)")
        x("ANALYZE b" if engine == "postgres" else "ANALYZE")


def run(name: str, url: str, rows: int, repeat: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        setup(name, conn, rows)
    timings: dict[str, list[float]] = {k: [] for k in shapes(name)}
    for _ in range(repeat):
        for shape, statements in shapes(name).items():  # interleaved
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS t")
                conn.exec_driver_sql("CREATE TABLE t AS SELECT * FROM t_base")
                if name != "duckdb":  # as loaders creates it (DuckDB joins by hash, it gets no index)
                    conn.exec_driver_sql("CREATE UNIQUE INDEX ux_t ON t (id)")
                if name == "postgres":
                    conn.exec_driver_sql("ANALYZE t")
            with engine.connect() as conn:
                transaction = conn.begin()
                start = time.perf_counter()
                for statement in statements:
                    conn.exec_driver_sql(statement)
                timings[shape].append(time.perf_counter() - start)
                transaction.rollback()
    with engine.begin() as conn:
        for table in ("t", "t_base", "b"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()
    for shape, values in timings.items():
        print(f"{name:<9} {shape:<14} {statistics.median(values):>7.3f}s", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="the table's rows (events: 18%% of them)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--pg", help="a PostgreSQL URL (its tables t, t_base and b are dropped and made)")
    args = p.parse_args()
    print(
        f"{args.rows * 18 // 100:,} events into {args.rows:,} rows, statements only, median of {args.repeat}, interleaved"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run("duckdb", f"duckdb:///{Path(tmp) / 'shapes.duckdb'}", args.rows, args.repeat)
        run("sqlite", f"sqlite:///{Path(tmp) / 'shapes.db'}", args.rows, args.repeat)
    if args.pg:
        run("postgres", args.pg, args.rows, args.repeat)


if __name__ == "__main__":
    main()
