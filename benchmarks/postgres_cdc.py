"""Throughput of a `postgres_cdc` mart: the first load's copy and a later load of waiting changes,
on a throwaway PostgreSQL 15 cluster with wal_level=logical (tests/pgcluster.py), into DuckDB.

    python benchmarks/postgres_cdc.py [--rows 100000] [--target duckdb:///tmp/cdc.duckdb]

There is no hand-written baseline here: the alternative a user has is Debezium + Kafka, not a query.
The figures say what a scheduled run costs: rows copied per second, changes decoded and applied per second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from pgcluster import throwaway_postgres  # noqa: E402

from loaders import load_mart, parse_mart  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--target", default=None)
    args = parser.parse_args()
    target = args.target or f"duckdb:///{tempfile.mkdtemp()}/cdc.duckdb"
    n = args.rows
    with throwaway_postgres({"wal_level": "logical"}) as cluster:
        dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("create table orders (id int primary key, status text, amount numeric(10,2), note text)")
            conn.execute(f"insert into orders select i, 'new', i % 1000, md5(i::text) from generate_series(1, {n}) i")
        source = {"url": cluster.url, "table": "orders", "slot": "bench", "publication": "bench"}
        spec = parse_mart("orders", {"strategy": "cdc", "keys": ["id"], "source": {"postgres_cdc": source}})
        start = time.perf_counter()
        first = load_mart("orders", spec, target)
        copy = time.perf_counter() - start
        print(f"first load, copy of {first.inserted:,} rows: {copy:.2f} s ({first.inserted / copy:,.0f} rows/s)")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("update orders set status = 'paid' where id % 2 = 0")  # n/2 changes, one transaction
            for k in range(100):  # 100 small transactions
                lo = n + 1 + k * 100
                conn.execute(f"insert into orders select i, 'new', 1, 'x' from generate_series({lo}, {lo + 99}) i")
        start = time.perf_counter()
        second = load_mart("orders", spec, target)
        took = time.perf_counter() - start
        changes = second.inserted + second.updated + second.deleted
        print(f"{changes:,} waiting changes (one large transaction, 100 small): {took:.2f} s ({changes / took:,.0f}/s)")


if __name__ == "__main__":
    main()
