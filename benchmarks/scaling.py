"""Does a load cost the batch or the table? The same 200k batch into a 1M-row and a 10M-row table.

    python benchmarks/scaling.py [--sizes 1000000 10000000] [--pg URL] [--repeat 2]

For append, merge, scd2 and cdc (the strategies that touch only the batch's keys) on DuckDB and, with
`--pg`, PostgreSQL: the batch is `bench.py`'s (half updates of existing keys, half new keys; cdc a feed
with 10% deletes), the tables are built the same way at each size (on PostgreSQL with the key index
loaders gives the tables it creates). Each run starts from a fresh copy (DuckDB: the file; PostgreSQL:
`CREATE DATABASE ... TEMPLATE`), not timed; the load is timed in-process. The target: 10M / 1M <= 1.5.
(`full` rewrites the table and a `delete_missing` merge takes a whole snapshot as its batch: both
cost the table by definition.)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from bench import build, loaders_job, seed_watermark  # noqa: E402

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


def timed(job: object, url: str, strategy: str) -> float:
    if strategy == "append":
        seed_watermark(url)
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
    results: dict[tuple[str, str, int], float] = {}
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
                    job = loaders_job(strategy, work)
                    for engine in engines:
                        times = []
                        for _ in range(a.repeat):
                            if engine == "duckdb":
                                db = work / "run.duckdb"
                                shutil.copy(work / "base.duckdb", db)
                                times.append(timed(job, f"duckdb:///{db}", strategy))
                                db.unlink()
                            else:
                                assert admin is not None
                                run = f"loaders_scale_run_{rows}"
                                with admin.connect() as c:
                                    c.exec_driver_sql(f"drop database if exists {run}")
                                    c.exec_driver_sql(f"create database {run} template loaders_scale_{rows}")
                                url = admin.url.set(database=run).render_as_string(hide_password=False)
                                times.append(timed(job, url, strategy))
                                with admin.connect() as c:
                                    c.exec_driver_sql(f"drop database {run} with (force)")
                        results[(engine, strategy, rows)] = statistics.median(times)
                        print(
                            f"  {engine} {strategy} into {rows:,}: {results[(engine, strategy, rows)]:.2f} s",
                            file=sys.stderr,
                        )
        finally:
            if admin is not None:
                with admin.connect() as c:
                    for name in made:
                        c.exec_driver_sql(f"drop database if exists {name} with (force)")
                admin.dispose()
    print(f"the same {a.batch:,}-row batch into {small:,} and {big:,} rows, median of {a.repeat}; target <= 1.5")
    print(f"{'engine':11} {'strategy':8} {small:>11,} {big:>11,} {'ratio':>6}")
    for engine in ("duckdb", "postgresql"):
        for strategy in STRATEGIES:
            if (engine, strategy, small) in results:
                s, b = results[(engine, strategy, small)], results[(engine, strategy, big)]
                print(f"{engine:11} {strategy:8} {s:10.2f}s {b:10.2f}s {b / s:6.2f}")


if __name__ == "__main__":
    main()
