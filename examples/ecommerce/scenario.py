"""E-commerce customers: a daily snapshot extract with every classic hard case, and its ground truth.

Used by ``loaders compare examples/ecommerce --days 14`` to load the same history with every applicable
strategy and score each one. Day by day the source has:

- updates: a few customers move city or change segment (``updated_at`` = that day);
- deletes: one customer a day disappears from the extract; customer 7 leaves on day 3 and comes back on
  day 6 (a key that returns);
- duplicates: on day 4 the extract carries a customer twice (an older copy of the row, too);
- a late change: a move that happened on day 5 only shows up in day 6's extract (``updated_at`` day 5);
- a missing day: no extract on day 8 (every load must fail cleanly and leave its mart as it was);
- a schema change: from day 10 the extract has an ``email`` column.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

START = date(2026, 1, 1)
KEYS = ["customer_id"]
TRACKED = ["city", "segment"]
CITIES = ["Berlin", "Lisbon", "Oslo", "Turin", "Ghent", "Lyon"]
MISSING_DAY, SCHEMA_CHANGE_DAY, DUPLICATE_DAY, LATE_DAY = 8, 10, 4, 6


def day_date(day: int) -> date:
    return START + timedelta(days=day - 1)


def stamp(day: int, hour: int = 9) -> datetime:
    return datetime.combine(day_date(day), datetime.min.time()) + timedelta(hours=hour)


def truth(days: int) -> list[dict[int, dict[str, Any]]]:
    """The true customers at the end of each day 1..days (index 0 is day 1)."""
    r = random.Random(42)
    current = {
        i: {
            "customer_id": i,
            "city": r.choice(CITIES),
            "segment": r.choice(["consumer", "smb"]),
            "updated_at": stamp(1, 0),
        }
        for i in range(1, 41)
    }
    gone: dict[int, dict[str, Any]] = {}
    history = []
    late: int | None = None
    for day in range(1, days + 1):
        if day > 1:
            rd = random.Random(day)
            moved = rd.sample(sorted((v for k, v in current.items() if k != late), key=lambda x: x["customer_id"]), 3)
            for row in moved:
                row.update(city=rd.choice([c for c in CITIES if c != row["city"]]), updated_at=stamp(day))
            victim = 7 if day == 3 else rd.choice([k for k in current if k not in (7, late)])
            gone[victim] = current.pop(victim)
            if day == 6 and 7 in gone:  # customer 7 comes back
                current[7] = {**gone.pop(7), "updated_at": stamp(day)}
            if day == LATE_DAY - 1:  # a 06:00 move on day 5 that the extract only carries on day 6
                late = late_customer(current, moved)
                current[late].update(city="Porto", updated_at=stamp(day, 6))
        history.append({k: dict(v) for k, v in current.items()})
    return history


#: what `loaders compare` checks after the day the late change arrives: that customer's city is Porto
LATE_CHANGE = {"day": LATE_DAY, "column": "city", "value": "Porto"}


def late_customer(current: dict[int, dict[str, Any]], moved: list[dict[str, Any]]) -> int:
    return min(k for k in current if k not in {m["customer_id"] for m in moved})


def extract(day: int, days_truth: list[dict[int, dict[str, Any]]]) -> pa.Table | None:
    """What the source system delivers for `day` (None: nothing delivered)."""
    if day == MISSING_DAY:
        return None
    state = days_truth[day - 1]
    rows = [dict(v) for k, v in sorted(state.items())]
    if day == LATE_DAY - 1:  # the day-5 move is not in day 5's extract yet
        rows = [dict(days_truth[day - 2][r["customer_id"]]) if r["city"] == "Porto" else r for r in rows]
    if day == DUPLICATE_DAY:  # one customer twice, the second copy older
        rows.append({**rows[1], "updated_at": rows[1]["updated_at"] - timedelta(hours=1), "city": "stale copy"})
    if day >= SCHEMA_CHANGE_DAY:
        rows = [{**row, "email": f"c{row['customer_id']}@example.com"} for row in rows]
    return pa.Table.from_pylist(rows)


def generate(day: int, out: Path, days_truth: list[dict[int, dict[str, Any]]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "customers.parquet"
    target.unlink(missing_ok=True)
    table = extract(day, days_truth)
    if table is not None:
        pq.write_table(table, target)


#: the strategies compared, as mart options (source and table are filled in by `loaders compare`)
STRATEGIES: dict[str, dict[str, Any]] = {
    "full reload": {"strategy": "full"},
    "append (cursor)": {"strategy": "append", "cursor": "updated_at"},
    "append + lookback": {
        "strategy": "append",
        "cursor": "updated_at",
        "lookback": "2 days",
        "keys": ["customer_id", "updated_at"],
    },
    "merge (upsert)": {"strategy": "merge", "keys": KEYS, "dedupe_by": "updated_at"},
    "merge + delete_missing": {"strategy": "merge", "keys": KEYS, "dedupe_by": "updated_at", "delete_missing": True},
    "scd2": {
        "strategy": "scd2",
        "keys": KEYS,
        "track": TRACKED,
        "effective_from": "updated_at",
        "deletes": "close",
        "dedupe_by": "updated_at",
    },
    "snapshot": {"strategy": "snapshot"},
}


# --------------------------------------------------------------------------- the whole shop, for marts.yaml
def write_shop(day: int, out: Path, days_truth: list[dict[int, dict[str, Any]]]) -> None:
    """Every source of the shop for `day`: customers (as above), products, orders, inventory changes and
    the POS system's daily sales totals (which restate the last three days)."""
    import csv
    import json

    generate(day, out, days_truth)
    r = random.Random(500 + day)
    prices = {f"SKU-{i:02d}": round(4 + i * 1.75 * (1.1 if (i + day) % 7 == 0 else 1.0), 2) for i in range(1, 13)}
    if day >= 9:
        prices.pop("SKU-12")  # discontinued: gone from the product snapshot
    with open(out / "products.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "title", "price"])
        writer.writerows([sku, f"product {sku[-2:]}", price] for sku, price in prices.items())
    (out / "orders").mkdir(exist_ok=True)
    orders = [
        {
            "order_id": day * 1000 + n,
            "customer_id": r.randint(1, 40),
            "sku": r.choice(sorted(prices)),
            "amount": round(r.uniform(5, 80), 2),
            "ordered_at": stamp(day, 8) + timedelta(minutes=r.randint(0, 600)),
        }
        for n in range(30)
    ]
    if day > 1:  # two orders of yesterday evening reach the extract a day late
        orders += [
            {
                "order_id": (day - 1) * 1000 + 900 + n,
                "customer_id": 3,
                "sku": "SKU-01",
                "amount": 9.5,
                "ordered_at": stamp(day - 1, 23),
            }
            for n in range(2)
        ]
    pq.write_table(pa.Table.from_pylist(orders), out / "orders" / f"day={day:03d}.parquet")
    (out / "inventory").mkdir(exist_ok=True)
    lsn = day * 10_000
    events = []
    for i, sku in enumerate(sorted(prices)):
        lsn += 3
        events.append({"op": "c" if day == 1 else "u", "sku": sku, "on_hand": r.randint(0, 90), "lsn": lsn + i})
    if day == 9:
        events.append({"op": "d", "sku": "SKU-12", "on_hand": None, "lsn": lsn + 99})
    r.shuffle(events)
    with open(out / "inventory" / f"day={day:03d}.jsonl", "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in events)
    (out / "daily_sales").mkdir(exist_ok=True)
    with open(out / "daily_sales" / "latest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sale_date", "store", "revenue"])
        for back in range(3):  # the POS re-sends the last three days, corrected
            if day - back >= 1:
                for store in ("north", "south"):
                    revenue = 1000 + 37 * (day - back) + (50 if store == "north" else 0) + 5 * back
                    writer.writerow([day_date(day - back).isoformat(), store, revenue])
