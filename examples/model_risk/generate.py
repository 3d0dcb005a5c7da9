"""Day N of a bank's model-risk feature sources, with the incidents a monitoring team must catch.

    python generate.py --day 3 [--out data]

Three sources feed the feature marts of a credit model, one file per day each:
- bureau/        credit bureau features; the bureau stops delivering on days 6-8 (no files)
- transactions/  card transaction aggregates; on day 9 `merchant_risk` arrives all NULL
- scores/        the model's daily scores; on day 11 a wrong model version is deployed and
                 re-scores yesterday's customers too (keys repeat, volume doubles)
and from day 12 the bureau sends a new feature, `num_inquiries` (a schema change, not an incident).
- accounts.parquet  the customers' credit accounts as of the day: limits change, accounts close (they
                    leave the snapshot) and account 5, closed on day 4, reopens on day 10.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

START = date(2026, 1, 1)
CUSTOMERS = range(1, 201)
BUREAU_OUTAGE = {6, 7, 8}
NULL_COLUMN_DAY = 9
WRONG_MODEL_DAY = 11
NEW_FEATURE_DAY = 12  # the bureau adds a feature column (a schema change)


def as_of(day: int) -> date:
    return START + timedelta(days=day - 1)


def bureau(day: int, fixed: bool = False) -> pa.Table | None:
    if day in BUREAU_OUTAGE and not fixed:
        return None
    r = random.Random(day)
    rows = [
        {"customer_id": c, "as_of": as_of(day), "credit_lines": r.randint(1, 9), "utilisation": round(r.random(), 3)}
        for c in CUSTOMERS
    ]
    if day >= NEW_FEATURE_DAY:
        rows = [{**row, "num_inquiries": r.randint(0, 6)} for row in rows]
    return pa.Table.from_pylist(rows)


def transactions(day: int, fixed: bool = False) -> pa.Table:
    r = random.Random(100 + day)
    rows = [
        {
            "customer_id": c,
            "as_of": as_of(day),
            "txn_count": r.randint(0, 40),
            "avg_amount": round(r.uniform(5, 300), 2),
            "merchant_risk": None if day == NULL_COLUMN_DAY and not fixed else round(r.random(), 3),
        }
        for c in CUSTOMERS
    ]
    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("as_of", pa.date32()),
            ("txn_count", pa.int64()),
            ("avg_amount", pa.float64()),
            ("merchant_risk", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def scores(day: int, fixed: bool = False) -> pa.Table:
    r = random.Random(200 + day)
    scored_at = datetime.combine(as_of(day), datetime.min.time()) + timedelta(hours=23)
    wrong = day == WRONG_MODEL_DAY and not fixed
    days = [day, day - 1] if wrong else [day]
    version = "pd-v3.2-rc1" if wrong else "pd-v3.1"
    return pa.Table.from_pylist(
        [
            {
                "customer_id": c,
                "as_of": as_of(d),
                "model_version": version,
                "score": round(r.random(), 4),
                "scored_at": scored_at,
            }
            for d in days
            for c in CUSTOMERS
        ]
    )


def accounts(day: int) -> pa.Table:
    state = {
        c: {"customer_id": c, "credit_limit": 1000 + 250 * (c % 8), "updated_at": datetime(2026, 1, 1)}
        for c in CUSTOMERS
    }
    closed: set[int] = set()
    for d in range(2, day + 1):
        r = random.Random(400 + d)
        for c in r.sample(sorted(set(state) - closed), 5):
            state[c] = {
                **state[c],
                "credit_limit": state[c]["credit_limit"] + 500,
                "updated_at": datetime.combine(as_of(d), datetime.min.time()) + timedelta(hours=10),
            }
        closed |= {5} if d == 4 else {r.choice(sorted(set(state) - closed - {5}))} if d % 3 == 0 else set()
        if d == 10:  # account 5 reopens
            closed.discard(5)
            state[5] = {**state[5], "updated_at": datetime.combine(as_of(d), datetime.min.time()) + timedelta(hours=9)}
    return pa.Table.from_pylist([state[c] for c in CUSTOMERS if c not in closed])


def write_day(day: int, out: Path) -> None:
    for name in ("bureau", "transactions", "scores"):
        (out / name).mkdir(parents=True, exist_ok=True)
    if (table := bureau(day)) is not None:
        pq.write_table(table, out / "bureau" / f"day={day:03d}.parquet")
    pq.write_table(transactions(day), out / "transactions" / f"day={day:03d}.parquet")
    pq.write_table(scores(day), out / "scores" / f"day={day:03d}.parquet")
    pq.write_table(accounts(day), out / "accounts.parquet")


def redeliver(day: int, out: Path) -> list[str]:
    """Upstream fixes an incident the day after it is caught: corrected files for the bad day(s)."""
    fixed = []
    if day == max(BUREAU_OUTAGE) + 1:  # the bureau catches up with the days it missed
        for missed in sorted(BUREAU_OUTAGE):
            pq.write_table(bureau(missed, fixed=True), out / "bureau" / f"day={missed:03d}.parquet")
        fixed.append(f"bureau re-delivers days {min(BUREAU_OUTAGE)}-{max(BUREAU_OUTAGE)}")
    if day == NULL_COLUMN_DAY + 1:
        pq.write_table(
            transactions(NULL_COLUMN_DAY, fixed=True), out / "transactions" / f"day={NULL_COLUMN_DAY:03d}.parquet"
        )
        fixed.append(f"transactions day {NULL_COLUMN_DAY} re-delivered with merchant_risk")
    if day == WRONG_MODEL_DAY + 1:
        pq.write_table(scores(WRONG_MODEL_DAY, fixed=True), out / "scores" / f"day={WRONG_MODEL_DAY:03d}.parquet")
        fixed.append(f"model rolled back; day {WRONG_MODEL_DAY} re-scored with pd-v3.1")
    return fixed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day", type=int, required=True)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = p.parse_args()
    write_day(args.day, args.out)
    print(f"wrote day {args.day} ({as_of(args.day)}) into {args.out}")


if __name__ == "__main__":
    main()
