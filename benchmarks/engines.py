"""The merge on every engine: loaders against hand-written SQL on the same engine, in the same run.

    python benchmarks/engines.py [--rows 1000000] [--batch 200000] [--repeat 2] [--engine postgres ...]

PostgreSQL and MariaDB come from LOADERS_TEST_POSTGRES_URL / LOADERS_TEST_MYSQL_URL (skipped if unset).
Both sides start from an identical copy of a 1M-row table with an index on the key, and get the same
200k-row Arrow batch (half updates of existing keys, a quarter of those changed, half new keys). The
hand-written side stages the batch the way that engine's users would (DuckDB: register Arrow;
PostgreSQL: COPY; MariaDB/SQLite: executemany into a temp table) and then runs MERGE (DuckDB,
PostgreSQL) or UPDATE ... JOIN + INSERT ... WHERE NOT EXISTS (MariaDB, SQLite).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import sqlalchemy as sa

from loaders import FullReload, Merge

COLS = ["id", "name", "city", "amount", "updated_at"]


def base_table(rows: int) -> pa.Table:
    ids = pa.array(range(rows), pa.int64())
    return pa.table(
        {
            "id": ids,
            "name": pc.binary_join_element_wise("name ", pc.cast(ids, pa.string()), ""),
            "city": pc.take(pa.array(["Oslo", "Lyon", "Ghent", "Turin"]), pc.bit_wise_and(ids, 3)),
            "amount": pc.divide(pc.cast(pc.bit_wise_and(ids, 1023), pa.float64()), 10.0),
            "updated_at": pa.array([0] * rows, pa.timestamp("us")),
        }
    )


def batch_table(rows: int, batch: int) -> pa.Table:
    half = batch // 2
    old = base_table(rows).take(pa.array(range(0, rows, max(rows // half, 1))[:half]))
    city = pc.if_else(pc.equal(pc.bit_wise_and(old["id"], 3), 0), "Bergen", old["city"])
    old = old.set_column(2, "city", city)
    new = base_table(half)
    new = new.set_column(0, "id", pc.add(new["id"], rows))
    return pa.concat_tables([old, new])


def engines(tmp: Path) -> dict[str, str]:
    out = {"duckdb": f"duckdb:///{tmp / 'bench.duckdb'}", "sqlite": f"sqlite:///{tmp / 'bench.db'}"}
    for name, var in (("postgres", "LOADERS_TEST_POSTGRES_URL"), ("mysql", "LOADERS_TEST_MYSQL_URL")):
        if os.environ.get(var):
            out[name] = os.environ[var]
    return out


def fresh_copy(url: str, name: str, base: pa.Table) -> None:
    """A new `run` table, identical to `bench_base`, with the same key index loaders would create."""
    if name == "sqlite":  # CREATE TABLE AS would drop SQLite's declared types
        e = sa.create_engine(url)
        with e.begin() as conn:
            conn.exec_driver_sql("drop table if exists bench_run")
        FullReload(keys=["id"]).run(base, url, table="bench_run")
        return
    e = sa.create_engine(url)
    with e.begin() as conn:
        conn.exec_driver_sql("drop table if exists bench_run")
        conn.exec_driver_sql("create table bench_run as select * from bench_base")
        if name != "duckdb":
            conn.exec_driver_sql("create index ix_bench_run on bench_run (id)")
    e.dispose()


def hand_written(url: str, name: str, batch: pa.Table) -> None:
    e = sa.create_engine(url)
    sets = ", ".join(f"{c} = s.{c}" for c in COLS[1:])
    with e.begin() as conn:
        raw: Any = conn.connection.driver_connection
        if name == "duckdb":
            raw.register("s", batch)
            conn.exec_driver_sql(
                f"merge into bench_run t using s on t.id = s.id when matched then update set {sets} "
                "when not matched then insert values (s.id, s.name, s.city, s.amount, s.updated_at)"
            )
            return
        ddl = {
            "postgres": "create temp table s (id bigint, name text, city text, amount double precision, updated_at timestamp)",
            "mysql": "create temporary table s (id bigint primary key, name longtext, city longtext, amount double, updated_at datetime(6))",
            "sqlite": "create temp table s (id integer, name text, city text, amount real, updated_at timestamp)",
        }
        conn.exec_driver_sql(ddl[name])
        if name == "postgres":
            buf = io.BytesIO()
            pcsv.write_csv(batch, buf, pcsv.WriteOptions(include_header=False))
            with raw.cursor() as cur, cur.copy("copy s from stdin with (format csv)") as copy:
                copy.write(buf.getvalue())
            conn.exec_driver_sql(
                f"merge into bench_run t using s on t.id = s.id when matched then update set {sets} "
                "when not matched then insert values (s.id, s.name, s.city, s.amount, s.updated_at)"
            )
            return
        marker = "%s" if name == "mysql" else "?"
        rows = [tuple(r.values()) for r in batch.to_pylist()]
        cur = raw.cursor()
        for i in range(0, len(rows), 10_000):
            cur.executemany(f"insert into s values ({', '.join([marker] * 5)})", rows[i : i + 10_000])
        if name == "mysql":
            conn.exec_driver_sql(
                f"update bench_run t join s on t.id = s.id set {', '.join(f't.{c} = s.{c}' for c in COLS[1:])}"
            )
        else:
            conn.exec_driver_sql(
                f"update bench_run set {', '.join(f'{c} = s.{c}' for c in COLS[1:])} from s where bench_run.id = s.id"
            )
        conn.exec_driver_sql(
            "insert into bench_run select * from s where not exists (select 1 from bench_run t where t.id = s.id)"
        )
    e.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--engine", action="append")
    args = p.parse_args()
    base, batch = base_table(args.rows), batch_table(args.rows, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"{'engine':<9} {'hand SQL':>9} {'loaders':>9} {'ratio':>6}   merge of {args.batch:,} rows into {args.rows:,}"
        )
        for name, url in engines(Path(tmp)).items():
            if args.engine and name not in args.engine:
                continue
            FullReload(keys=["id"]).run(base, url, table="bench_base")
            hand, ours = [], []
            for _ in range(args.repeat):
                fresh_copy(url, name, base)
                start = time.perf_counter()
                hand_written(url, name, batch)
                hand.append(time.perf_counter() - start)
                fresh_copy(url, name, base)
                start = time.perf_counter()
                Merge(keys=["id"]).run(batch, url, table="bench_run")
                ours.append(time.perf_counter() - start)
            h, o = statistics.median(hand), statistics.median(ours)
            print(f"{name:<9} {h:>8.2f}s {o:>8.2f}s {o / h:>6.2f}", flush=True)
            e = sa.create_engine(url)
            with e.begin() as conn:
                for t in ("bench_run", "bench_base"):
                    conn.exec_driver_sql(f"drop table if exists {t}")
            e.dispose()


if __name__ == "__main__":
    main()
