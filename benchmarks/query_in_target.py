"""A query source run inside the target against the same query streamed through Arrow.

The source table (``--rows`` rows: id, name, city, amount, updated_at) sits twice on the engine: in
the target's own database, where ``source: {query: ...}`` without a URL is staged by the engine
(CREATE TEMPORARY TABLE ... AS), and in a second database (DuckDB: a second file; PostgreSQL: a second
database on the server), from where the same query is read out and staged through Arrow, as any
other-URL query is. Each measured load is a first merge into an empty mart (every row staged and
inserted); median of ``--repeat``, interleaved, in one process.

    python benchmarks/query_in_target.py duckdb --rows 1000000
    python benchmarks/query_in_target.py postgresql+psycopg://postgres@127.0.0.1:5432/postgres --rows 300000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from loaders import Merge
from loaders.spec import QuerySource

FILL = """
create table src as
select i as id, 'customer ' || i as name, case mod(i, 3) when 0 then 'Oslo' when 1 then 'Lyon' else 'Ghent' end as city,
       cast(mod(i, 1000) as decimal(10, 2)) / 7 as amount, timestamp '2026-01-01 00:00:00' + i * interval '1 second' as updated_at
from {series}
"""


def databases(engine: str, folder: Path) -> tuple[list[str], list[str]]:
    """(target URL, other URL) and the admin statements to undo."""
    if engine == "duckdb":
        return [f"duckdb:///{folder / 'target.duckdb'}", f"duckdb:///{folder / 'other.duckdb'}"], []
    names = [f"bench_q_{uuid.uuid4().hex[:6]}" for _ in range(2)]
    admin = sa.create_engine(engine, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for n in names:
            conn.exec_driver_sql(f'create database "{n}"')
    admin.dispose()
    urls = [sa.engine.make_url(engine).set(database=n).render_as_string(hide_password=False) for n in names]
    return urls, names


def fill(url: str, rows: int) -> None:
    e = sa.create_engine(url, poolclass=sa.pool.NullPool)
    series = f"range(1, {rows + 1}) t(i)" if url.startswith("duckdb") else f"generate_series(1, {rows}) t(i)"
    with e.begin() as conn:
        conn.exec_driver_sql(FILL.format(series=series))
    e.dispose()


def one(url: str, source: QuerySource) -> float:
    table = f"m_{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    r = Merge(keys=["id"]).run(source, url, table=table)
    seconds = time.perf_counter() - start
    assert r.status == "success" and r.inserted > 0, r
    e = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with e.begin() as conn:
        conn.exec_driver_sql(f"drop table {table}")
    e.dispose()
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("engine", help="duckdb, or a PostgreSQL server URL (two databases are made and dropped)")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    query = "select id, name, city, amount, updated_at from src"
    with tempfile.TemporaryDirectory() as folder:
        (target, other), made = databases(a.engine, Path(folder))
        try:
            fill(target, a.rows)
            fill(other, a.rows)
            times: dict[str, list[float]] = {"in target": [], "through Arrow": []}
            for _ in range(a.repeat):
                times["in target"].append(one(target, QuerySource(query=query)))
                times["through Arrow"].append(one(target, QuerySource(query=query, url=other)))
        finally:
            if made:
                admin = sa.create_engine(a.engine, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
                with admin.connect() as conn:
                    for n in made:
                        conn.exec_driver_sql(f'drop database if exists "{n}" with (force)')
                admin.dispose()
    inside, arrow = (statistics.median(t) for t in times.values())
    name = "duckdb" if a.engine == "duckdb" else sa.engine.make_url(a.engine).get_backend_name()
    print(f"{name}, {a.rows:,} rows, first merge, median of {a.repeat}:")
    print(f"  query inside the target : {inside:6.2f} s  ({a.rows / inside:,.0f} rows/s)")
    print(f"  same query through Arrow: {arrow:6.2f} s  ({a.rows / arrow:,.0f} rows/s)")
    print(f"  ratio (inside / Arrow)  : {inside / arrow:.2f}")


if __name__ == "__main__":
    main()
