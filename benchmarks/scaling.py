"""Does a load cost the batch or the table? The same 200k batch into a 1M-row and a 10M-row table.

    python benchmarks/scaling.py [--sizes 1000000 10000000] [--pg URL] [--repeat 2]

For append, merge, scd2 and cdc (the strategies that touch only the batch's keys) on DuckDB and, with
`--pg`, PostgreSQL: the batch is `bench.py`'s (half updates of existing keys, half new keys; cdc a feed
with 10% deletes), the tables are built the same way at each size (on PostgreSQL with the key index
loaders gives the tables it creates). Each run starts from a fresh copy (DuckDB: the file; PostgreSQL:
`CREATE DATABASE ... TEMPLATE`), not timed; the load is timed in-process. The target: 10M / 1M <= 1.5.
The hand-written SQL of each engine runs on the same copies (DuckDB: `bench.HAND`; PostgreSQL: COPY
into a temp table, then `PG_HAND`), so the table shows how the engine's own SQL grows beside loaders.
(`full` rewrites the table and a `delete_missing` merge takes a whole snapshot as its batch: both
cost the table by definition.)
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from bench import HAND, build, loaders_job, seed_watermark  # noqa: E402

STRATEGIES = ["append", "merge", "scd2", "cdc"]


def pg_base(admin: sa.Engine, name: str, rows: int) -> None:
    """bench.build's tables on PostgreSQL, with the indexes loaders creates for them."""
    with admin.connect() as c:
        c.exec_driver_sql(f"drop database if exists {name}")
        c.exec_driver_sql(f"create database {name}")
    engine = sa.create_engine(admin.url.set(database=name), isolation_level="AUTOCOMMIT")
    base = f"""select g::bigint as id, 'name ' || g as name, (array['Oslo','Lyon','Ghent','Turin'])[g %% 4 + 1] as city,
                      ((g %% 1000) / 10.0)::double precision as amount, timestamp '2026-01-01' + g * interval '1 second' as updated_at
               from generate_series(0, {rows - 1}) g"""
    with engine.connect() as c:
        c.exec_driver_sql(f"create table plain as {base}")
        c.exec_driver_sql("create index on plain (id)")  # not unique: append re-inserts updated keys
        c.exec_driver_sql(
            f"create table hist as select b.*, b.updated_at as valid_from, null::timestamp as valid_to, "
            f"true as is_current from ({base}) b"
        )
        c.exec_driver_sql("create index on hist (id)")
        c.exec_driver_sql(f"create table cdc as select id, name, city, amount, id as lsn from ({base}) b")
        c.exec_driver_sql("create unique index on cdc (id)")
        c.exec_driver_sql("vacuum analyze")
    engine.dispose()


#: what a data engineer writes on PostgreSQL over the batch COPYed into temp table `s` (scd2 also
#: overwrites the untracked updated_at of unchanged current rows, as loaders does)
PG_HAND = {
    "append": ["insert into plain select * from s where updated_at > (select max(updated_at) from plain)"],
    "merge": [
        "merge into plain t using s on t.id = s.id when matched then update set name = s.name, city = s.city, "
        "amount = s.amount, updated_at = s.updated_at when not matched then insert values "
        "(s.id, s.name, s.city, s.amount, s.updated_at)"
    ],
    "scd2": [
        "update hist t set valid_to = s.updated_at, is_current = false from s where t.id = s.id and t.is_current "
        "and (t.name is distinct from s.name or t.city is distinct from s.city or t.amount is distinct from s.amount)",
        "update hist t set updated_at = s.updated_at from s where t.id = s.id and t.is_current "
        "and t.updated_at is distinct from s.updated_at",
        "insert into hist select s.*, s.updated_at, null, true from s "
        "where not exists (select 1 from hist t where t.id = s.id and t.is_current)",
    ],
    "cdc": [
        "create temp table d as select * from (select s.*, row_number() over (partition by id order by lsn desc) "
        "as rn from s) r where rn = 1",
        "delete from cdc where id in (select id from d where op = 'd')",
        "insert into cdc select id, name, city, amount, lsn from d where op <> 'd' on conflict (id) do update set "
        "name = excluded.name, city = excluded.city, amount = excluded.amount, lsn = excluded.lsn",
    ],
}


def hand_job(strategy: str, work: Path, engine: str) -> object:
    """The hand-written side as a job of a URL (timed like loaders' jobs: staging included)."""
    source = work / ("feed.parquet" if strategy == "cdc" else "batch.parquet")
    if engine == "duckdb":
        sql = HAND[strategy].format(batch=work / "batch.parquet", feed=work / "feed.parquet")

        def in_duckdb(url: str) -> None:
            con = duckdb.connect(url.removeprefix("duckdb:///"))
            con.execute(sql)
            con.close()

        return in_duckdb

    def in_postgres(url: str) -> None:
        batch = pq.read_table(source)
        types = {"int64": "bigint", "string": "text", "double": "double precision", "timestamp[us]": "timestamp"}
        columns = ", ".join(f"{f.name} {types[str(f.type)]}" for f in batch.schema)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"create temp table s ({columns})")
            raw: Any = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy("copy s from stdin with (format csv)") as copy:
                for b in batch.to_batches(65_536):
                    buffer = io.BytesIO()
                    pcsv.write_csv(b, buffer, pcsv.WriteOptions(include_header=False))
                    copy.write(buffer.getbuffer())
            conn.exec_driver_sql("analyze s")
            for statement in PG_HAND[strategy]:
                conn.exec_driver_sql(statement)
        engine.dispose()

    return in_postgres


def timed(job: object, url: str, strategy: str) -> float:
    seed_watermark(url, keep=strategy == "append")  # as a scheduled run after the first: state tables exist
    start = time.perf_counter()
    job(url)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs=2, default=[1_000_000, 10_000_000])
    p.add_argument("--batch", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--pg", help="a PostgreSQL server URL (databases are made there and dropped)")
    a = p.parse_args()
    small, big = a.sizes
    results: dict[tuple[str, str, int, str], float] = {}
    admin = sa.create_engine(a.pg, isolation_level="AUTOCOMMIT") if a.pg else None
    made: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            for rows in (small, big):
                work = Path(folder) / str(rows)
                work.mkdir()
                build(work, rows, a.batch)
                engines = ["duckdb"]
                if admin is not None:
                    pg_base(admin, f"loaders_scale_{rows}", rows)
                    made.append(f"loaders_scale_{rows}")
                    engines.append("postgresql")
                for strategy in STRATEGIES:
                    for engine in engines:
                        jobs = {"loaders": loaders_job(strategy, work), "hand": hand_job(strategy, work, engine)}
                        times: dict[str, list[float]] = {"loaders": [], "hand": []}
                        for _ in range(a.repeat):
                            for who, job in jobs.items():  # interleaved
                                if engine == "duckdb":
                                    db = work / "run.duckdb"
                                    shutil.copy(work / "base.duckdb", db)
                                    times[who].append(timed(job, f"duckdb:///{db}", strategy))
                                    db.unlink()
                                else:
                                    assert admin is not None
                                    run = f"loaders_scale_run_{rows}"
                                    with admin.connect() as c:
                                        c.exec_driver_sql(f"drop database if exists {run}")
                                        c.exec_driver_sql(f"create database {run} template loaders_scale_{rows}")
                                    url = admin.url.set(database=run).render_as_string(hide_password=False)
                                    times[who].append(timed(job, url, strategy))
                                    with admin.connect() as c:
                                        c.exec_driver_sql(f"drop database {run} with (force)")
                        for who in jobs:
                            results[(engine, strategy, rows, who)] = statistics.median(times[who])
                        print(
                            f"  {engine} {strategy} into {rows:,}: loaders {results[(engine, strategy, rows, 'loaders')]:.2f} s,"
                            f" hand {results[(engine, strategy, rows, 'hand')]:.2f} s",
                            file=sys.stderr,
                        )
        finally:
            if admin is not None:
                with admin.connect() as c:
                    for name in made:
                        c.exec_driver_sql(f"drop database if exists {name} with (force)")
                admin.dispose()
    print(f"the same {a.batch:,}-row batch into {small:,} and {big:,} rows, median of {a.repeat}; target <= 1.5")
    print(f"{'engine':11} {'strategy':8} {'loaders':>9} {'':>9} {'ratio':>6}   {'hand SQL':>9} {'':>9} {'ratio':>6}")
    print(f"{'':11} {'':8} {small:>9,} {big:>9,} {'':>6}   {small:>9,} {big:>9,}")
    for engine in ("duckdb", "postgresql"):
        for strategy in STRATEGIES:
            if (engine, strategy, small, "loaders") in results:
                s, b = results[(engine, strategy, small, "loaders")], results[(engine, strategy, big, "loaders")]
                hs, hb = results[(engine, strategy, small, "hand")], results[(engine, strategy, big, "hand")]
                print(
                    f"{engine:11} {strategy:8} {s:8.2f}s {b:8.2f}s {b / s:6.2f}   {hs:8.2f}s {hb:8.2f}s {hb / hs:6.2f}"
                )


if __name__ == "__main__":
    main()
