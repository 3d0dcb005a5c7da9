"""The shop, live: its `orders` table in PostgreSQL changes day by day and two marts follow it through
logical replication, checked against the table after every run.

    python live.py --pg postgresql://postgres@127.0.0.1:5432/shop [--days 5]

The server needs `wal_level = logical` (and a restart after setting it). The script creates
`public.orders` afresh (dropping this example's slots and publication first), then each day makes the
changes generate.py describes (new orders, status changes, two orders paid and shipped in one
transaction, cancellations, an amount correction) as SQL transactions, and runs `live.yaml`.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from generate import Shop
from simulate import run_day

from loaders import load_project

HERE = Path(__file__).parent
COLUMNS = ["order_id", "customer_id", "status", "amount", "placed_on", "updated_at"]


class LiveShop(Shop):
    """The generator's shop, writing its changes into PostgreSQL instead of a Debezium topic."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        super().__init__()
        self.conn = conn

    def transaction(self, when: datetime, changes: list[tuple[str, int, dict[str, Any] | None]]) -> list[str]:
        with self.conn.transaction():
            for op, order_id, row in changes:
                if op == "d":
                    self.conn.execute("delete from orders where order_id = %s", (order_id,))
                    self.orders.pop(order_id, None)
                    continue
                assert row is not None
                values = [row[c] if c != "updated_at" else row[c].replace(tzinfo=None) for c in COLUMNS]
                self.conn.execute(
                    f"insert into orders ({', '.join(COLUMNS)}) values ({', '.join(['%s'] * len(COLUMNS))}) "
                    f"on conflict (order_id) do update set {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])}",
                    values,
                )
                self.orders[order_id] = dict(row)
        return []

    def snapshot(self, when: datetime) -> list[str]:
        for row in self.orders.values():  # the orders there before the marts' first run
            self.transaction(when, [("c", row["order_id"], row)])
        return []


def reset(conn: psycopg.Connection[Any]) -> None:
    for slot in ("loaders_orders", "loaders_order_history"):
        conn.execute(
            "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s", (slot,)
        )
    conn.execute("drop publication if exists loaders_orders")
    conn.execute("drop table if exists orders")
    conn.execute(
        "create table orders (order_id bigint primary key, customer_id bigint not null, status text not null, "
        "amount numeric(10, 2) not null, placed_on date not null, updated_at timestamp not null)"
    )


def matches(conn: psycopg.Connection[Any]) -> bool:
    table = conn.execute(f"select {', '.join(COLUMNS)} from orders order by order_id").fetchall()
    con = duckdb.connect(str(HERE / "shop_live.duckdb"), read_only=True)
    mart = con.execute(f"select {', '.join(COLUMNS)} from orders order by order_id").fetchall()
    current = con.execute(
        f"select {', '.join(COLUMNS)} from order_history where is_current order by order_id"
    ).fetchall()
    con.close()
    return [tuple(r) for r in table] == mart == current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", required=True, help="a PostgreSQL URL (wal_level=logical)")
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    os.environ["PG_URL"] = args.pg
    (HERE / "shop_live.duckdb").unlink(missing_ok=True)
    dsn = args.pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        reset(conn)
        shop = LiveShop(conn)
        project = load_project(HERE / "live.yaml")
        for day in range(1, args.days + 1):
            shop.day(day)
            run_day(project, day, lambda: matches(conn))


if __name__ == "__main__":
    main()
