"""Write day N of a small shop's source data into ./data (deterministic, a few hundred rows).

    python generate.py --day 1     # first delivery
    python generate.py --day 2     # customers move, products change price, late orders, stock moves

Each day overwrites the snapshot files (customers, products, fx rates) and adds one orders file and
one inventory change-feed file, as real extracts do.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CITIES = ["Berlin", "Lisbon", "Oslo", "Turin", "Ghent", "Lyon"]
SEGMENTS = ["consumer", "smb", "enterprise"]
START = datetime(2026, 1, 1)


def customers(day: int) -> list[dict]:
    rng = random.Random(7)
    rows = [
        {
            "customer_id": i,
            "name": f"customer {i}",
            "city": rng.choice(CITIES),
            "segment": rng.choice(SEGMENTS),
            "updated_at": START,
        }
        for i in range(1, 41)
    ]
    for d in range(2, day + 1):  # each later day: a few move or change segment, one leaves, one joins
        r = random.Random(d)
        for row in r.sample(rows, 4):
            row["city" if r.random() < 0.6 else "segment"] = r.choice(CITIES if r.random() < 0.6 else SEGMENTS)
            row["updated_at"] = START + timedelta(days=d - 1, hours=r.randint(1, 20))
        rows.pop(r.randrange(len(rows)))
        new_id = 40 + d
        rows.append(
            {
                "customer_id": new_id,
                "name": f"customer {new_id}",
                "city": r.choice(CITIES),
                "segment": "consumer",
                "updated_at": START + timedelta(days=d - 1, hours=9),
            }
        )
    return rows


def products(day: int) -> list[dict]:
    rows = [{"sku": f"SKU-{i:03d}", "title": f"product {i}", "price": round(5 + i * 1.5, 2)} for i in range(1, 16)]
    for d in range(2, day + 1):
        r = random.Random(100 + d)
        for row in r.sample(rows, 3):
            row["price"] = round(row["price"] * r.choice([0.9, 1.1]), 2)
    return rows


def orders(day: int) -> list[dict]:
    r = random.Random(200 + day)
    rows = []
    for n in range(25):
        ts = START + timedelta(days=day - 1, minutes=r.randint(0, 1439))
        rows.append(
            {
                "order_id": day * 1000 + n,
                "customer_id": r.randint(1, 40),
                "sku": f"SKU-{r.randint(1, 15):03d}",
                "quantity": r.randint(1, 4),
                "updated_at": ts,
            }
        )
    if day > 1:  # two rows of yesterday arrive late, carried in today's file
        for n in range(2):
            ts = START + timedelta(days=day - 2, hours=23, minutes=r.randint(0, 50))
            rows.append(
                {
                    "order_id": (day - 1) * 1000 + 900 + n,
                    "customer_id": r.randint(1, 40),
                    "sku": "SKU-001",
                    "quantity": 1,
                    "updated_at": ts,
                }
            )
    return rows


def inventory_feed(day: int) -> list[dict]:
    r = random.Random(300 + day)
    events, lsn = [], day * 10_000
    skus = [f"SKU-{i:03d}" for i in range(1, 16)]
    for sku in skus if day == 1 else r.sample(skus, 6):
        lsn += r.randint(1, 9)
        events.append({"op": "c" if day == 1 else "u", "sku": sku, "on_hand": r.randint(0, 200), "lsn": lsn})
    if day > 1:
        lsn += 1
        events.append({"op": "d", "sku": skus[day % len(skus)], "on_hand": None, "lsn": lsn})
    r.shuffle(events)  # file order is not sequence order
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    out: Path = args.out
    (out / "orders").mkdir(parents=True, exist_ok=True)
    (out / "inventory").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(customers(args.day)), out / "customers.parquet")
    pcsv.write_csv(pa.Table.from_pylist(products(args.day)), out / "products.csv")
    pq.write_table(pa.Table.from_pylist(orders(args.day)), out / "orders" / f"day={args.day:03d}.parquet")
    with open(out / "inventory" / f"day={args.day:03d}.jsonl", "w") as f:
        for event in inventory_feed(args.day):
            f.write(json.dumps(event) + "\n")
    rates = [
        {"currency": c, "eur_rate": round(1 + i * 0.1 + args.day * 0.01, 4)}
        for i, c in enumerate(["EUR", "USD", "GBP", "NOK"])
    ]
    pcsv.write_csv(pa.Table.from_pylist(rates), out / "fx_rates.csv")
    print(f"wrote day {args.day} into {out}")


if __name__ == "__main__":
    main()
