"""Day N of a shop's `orders` table as Debezium sees it: the change events a Kafka Connect sink wrote
for that day, and the table's true state at the end of the day (to check the marts against).

    python generate.py --day 3 [--out data]

- topics/orders/day=N-part=K.jsonl: Debezium 2.x envelopes (schema + payload) of `shop.public.orders`.
  Day 1 starts with the connector's snapshot of the 30 orders already there (op r, one shared LSN),
  split over two files as a sink rolls them; then new orders (c), status changes (u), cancellations
  (d, followed by a tombstone), transactions that change one order twice, an amount correction, and
  an event the sink delivered twice.
- truth/orders.parquet: the orders table as it stands at the end of day N.

Every day is replayed from day 1 with a fixed seed, so day N's file is the same on every run.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2026, 5, 1, tzinfo=timezone.utc)
STATUSES = ["placed", "paid", "shipped", "delivered"]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

ROW = [
    {"type": "int64", "optional": False, "field": "order_id"},
    {"type": "int64", "optional": False, "field": "customer_id"},
    {"type": "string", "optional": False, "field": "status"},
    {
        "type": "bytes",
        "optional": False,
        "name": "org.apache.kafka.connect.data.Decimal",
        "version": 1,
        "parameters": {"scale": "2", "connect.decimal.precision": "10"},
        "field": "amount",
    },
    {"type": "int32", "optional": False, "name": "io.debezium.time.Date", "version": 1, "field": "placed_on"},
    {
        "type": "int64",
        "optional": False,
        "name": "io.debezium.time.MicroTimestamp",
        "version": 1,
        "field": "updated_at",
    },
]
VALUE = {"type": "struct", "fields": ROW, "optional": True, "name": "shop.public.orders.Value"}
SOURCE = {
    "type": "struct",
    "fields": [
        {"type": "string", "optional": False, "field": "connector"},
        {"type": "int64", "optional": False, "field": "ts_ms"},
        {"type": "string", "optional": True, "field": "snapshot"},
        {"type": "string", "optional": True, "field": "sequence"},
        {"type": "int64", "optional": True, "field": "txId"},
        {"type": "int64", "optional": True, "field": "lsn"},
    ],
    "optional": False,
    "name": "io.debezium.connector.postgresql.Source",
    "field": "source",
}
SCHEMA = {
    "type": "struct",
    "fields": [
        {**VALUE, "field": "before"},
        {**VALUE, "field": "after"},
        SOURCE,
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
    ],
    "optional": False,
    "name": "shop.public.orders.Envelope",
}


class Shop:
    """The orders table and the write-ahead log positions its changes get."""

    def __init__(self) -> None:
        self.rng = random.Random(20260501)
        self.orders: dict[int, dict[str, Any]] = {}
        self.lsn, self.last_commit, self.tx = 10_000, None, 700
        self.next_id = 1

    def new_order(self, when: datetime) -> dict[str, Any]:
        order = {
            "order_id": self.next_id,
            "customer_id": self.rng.randint(1, 40),
            "status": "placed",
            "amount": Decimal(self.rng.randint(500, 20_000)) / 100,
            "placed_on": when.date(),
            "updated_at": when,
        }
        self.next_id += 1
        return order

    def transaction(self, when: datetime, changes: list[tuple[str, int, dict[str, Any] | None]]) -> list[str]:
        """Apply changes as one transaction; their events carry the last commit's LSN and their own."""
        self.tx += 1
        events = []
        for op, order_id, row in changes:
            self.lsn += 8
            before = self.orders.get(order_id)
            if op == "d":
                del self.orders[order_id]
            else:
                self.orders[order_id] = dict(row)  # type: ignore[arg-type]
            image = {"before": _image(before) if op == "d" else None, "after": None if op == "d" else _image(row)}
            source = {
                "connector": "postgresql",
                "ts_ms": _ms(when),
                "snapshot": "false",
                "sequence": json.dumps([None if self.last_commit is None else str(self.last_commit), str(self.lsn)]),
                "txId": self.tx,
                "lsn": self.lsn,
            }
            events.append(_line({**image, "source": source, "op": op, "ts_ms": _ms(when) + 25}))
            if op == "d":
                events.append(json.dumps({"schema": None, "payload": None}))  # the tombstone
        self.lsn += 8
        self.last_commit = self.lsn
        return events

    def snapshot(self, when: datetime) -> list[str]:
        """The connector's first snapshot: every row as a read, all at one LSN."""
        source = {
            "connector": "postgresql",
            "ts_ms": _ms(when),
            "sequence": json.dumps([None, str(self.lsn)]),
            "lsn": self.lsn,
        }
        rows = sorted(self.orders.values(), key=lambda r: r["order_id"])
        return [
            _line(
                {
                    "before": None,
                    "after": _image(r),
                    "source": {**source, "snapshot": "true"},
                    "op": "r",
                    "ts_ms": _ms(when),
                }
            )
            for r in rows
        ]

    def day(self, day: int) -> list[list[str]]:
        """Day `day`'s changes, as the files a sink wrote (lists of lines)."""
        rng = self.rng
        start = START + timedelta(days=day - 1)
        if day == 1:
            for i in range(30):  # orders placed before the connector started: no events, only the snapshot
                order = self.new_order(start - timedelta(days=3) + timedelta(hours=i))
                order["status"] = rng.choice(STATUSES)
                self.orders[order["order_id"]] = order
            reads = self.snapshot(start)
            files = [reads[:20], reads[20:]]  # the sink rolled its file in the middle of the snapshot
        else:
            files = [[]]
        lines = files[-1]
        when = start + timedelta(hours=1)
        for _ in range(rng.randint(10, 15)):
            when += timedelta(minutes=rng.randint(5, 50))
            order = self.new_order(when)
            lines += self.transaction(when, [("c", order["order_id"], order)])
        for order_id in rng.sample(sorted(self.orders), k=min(12, len(self.orders))):
            when += timedelta(minutes=rng.randint(1, 20))
            row = dict(self.orders[order_id])
            at = STATUSES.index(row["status"])
            if at == len(STATUSES) - 1:
                continue
            row["status"], row["updated_at"] = STATUSES[at + 1], when
            changes = [("u", order_id, row)]
            if row["status"] == "paid" and rng.random() < 0.5:  # paid and shipped in one transaction
                row2 = dict(row, status="shipped")
                changes.append(("u", order_id, row2))
            lines += self.transaction(when, changes)
        for order_id in rng.sample([o for o, r in self.orders.items() if r["status"] == "placed"], k=2):
            when += timedelta(minutes=rng.randint(1, 20))
            lines += self.transaction(when, [("d", order_id, None)])  # cancelled
        fix = rng.choice(sorted(self.orders))
        when += timedelta(minutes=3)
        corrected = dict(self.orders[fix], amount=self.orders[fix]["amount"] + Decimal("1.50"), updated_at=when)
        lines += self.transaction(when, [("u", fix, corrected)])
        if lines:
            lines.append(lines[-1])  # at-least-once: the sink wrote the last event twice
        return files


def _image(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    unscaled = int(row["amount"] * 100)
    raw = unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
    return {
        "order_id": row["order_id"],
        "customer_id": row["customer_id"],
        "status": row["status"],
        "amount": base64.b64encode(raw).decode(),
        "placed_on": (row["placed_on"] - date(1970, 1, 1)).days,
        "updated_at": (row["updated_at"] - EPOCH) // timedelta(microseconds=1),
    }


def _ms(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


def _line(payload: dict[str, Any]) -> str:
    return json.dumps({"schema": SCHEMA, "payload": payload})


def truth(shop: Shop) -> pa.Table:
    rows = [dict(r, updated_at=r["updated_at"].replace(tzinfo=None)) for r in shop.orders.values()]
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["order_id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    shop = Shop()
    for day in range(1, args.day + 1):
        files = shop.day(day)
    topic = args.out / "topics" / "orders"
    topic.mkdir(parents=True, exist_ok=True)
    for part, lines in enumerate(files, 1):
        (topic / f"day={args.day:02d}-part={part}.jsonl").write_text("\n".join(lines) + "\n")
    (args.out / "truth").mkdir(parents=True, exist_ok=True)
    pq.write_table(truth(shop), args.out / "truth" / "orders.parquet")
    print(f"day {args.day}: {sum(len(f) for f in files)} lines in {len(files)} files, {len(shop.orders)} orders")


if __name__ == "__main__":
    main()
