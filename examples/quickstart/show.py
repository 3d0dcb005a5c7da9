"""Print what the quick start loaded: row counts per mart and one customer's SCD2 history."""

from pathlib import Path

import duckdb

db = duckdb.connect(str(Path(__file__).parent / "warehouse.duckdb"), read_only=True)


def rows(sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


for table in ["fx_rates", "fact_orders", "dim_product", "dim_customer", "inventory"]:
    print(f"{table:>14}: {rows(f'select count(*) from {table}')[0][0]} rows")
moved = rows("select customer_id from dim_customer group by 1 having count(*) > 1 order by 1 limit 1")
if moved:
    print(f"\nhistory of customer {moved[0][0]} (dim_customer, SCD2):")
    db.sql(
        f"select customer_id, city, segment, valid_from, valid_to, is_current from dim_customer "
        f"where customer_id = {moved[0][0]} order by valid_from"
    ).show()
print("run log (newest first):")
db.sql(
    "select mart, status, inserted, updated, deleted, closed, watermark_after from _loaders_runs "
    "order by started_at desc limit 5"
).show()
