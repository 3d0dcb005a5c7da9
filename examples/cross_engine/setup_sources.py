"""Make the two sources of this example: orders in PostgreSQL, products in a DuckDB file.

    python setup_sources.py [--day N]      # day 2 adds orders and reprices products

PostgreSQL comes from $PG_URL (default: the local test server, trust auth).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import duckdb
import sqlalchemy as sa

PG_URL = os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HERE = Path(__file__).parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day", type=int, default=1)
    day = p.parse_args().day
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema if not exists loaders_example")
        if day == 1:
            conn.exec_driver_sql("drop table if exists loaders_example.orders")
            conn.exec_driver_sql("drop table if exists loaders_example.dim_product")
            conn.exec_driver_sql(
                "create table loaders_example.orders (order_id bigint primary key, sku text, "
                "quantity int, amount numeric(10,2), updated_at timestamp)"
            )
        conn.exec_driver_sql(
            f"insert into loaders_example.orders select {day} * 1000 + g, 'SKU-' || lpad((mod(g, 15) + 1)::text, 3, '0'), "
            f"mod(g, 4) + 1, mod(g, 50) * 1.25, timestamp '2026-01-01' + interval '1 day' * ({day} - 1) + interval '1 minute' * g "
            "from generate_series(1, 200) g"
        )
    engine.dispose()
    con = duckdb.connect(str(HERE / "source.duckdb"))
    con.execute(
        "create or replace table products as select 'SKU-' || lpad((range + 1)::varchar, 3, '0') as sku, "
        f"'product ' || (range + 1) as title, round(5 + range * 1.5 * (1 + 0.1 * ({day} - 1) * (range % 2)), 2) "
        "as price from range(15)"
    )
    con.close()
    print(f"day {day}: 200 orders in PostgreSQL (loaders_example.orders), 15 products in source.duckdb")


if __name__ == "__main__":
    main()
