"""Day N of a personalised-discount experiment: who got which treatment, and who bought.

    python generate.py --day 3 [--out data]

- assignments/day=N.parquet: user_id, date, treatment_group (0, 5 or 10 % off), target (1 = bought).
  Days 1-7 assign at random. From day 8 a "smart" rule gives the 10 % discount mostly to gold-tier
  users, who buy more anyway: the naive effect estimate from those days is biased.
- users.parquet: the user dimension as of day N; users move between tiers over time (updated_at).
"""

from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

START = date(2026, 3, 1)
USERS = range(1, 501)
BIASED_FROM = 8
TIERS = ["bronze", "silver", "gold"]
BASE_RATE = {"bronze": 0.05, "silver": 0.10, "gold": 0.25}
LIFT = {0: 0.0, 5: 0.02, 10: 0.04}  # the true effect of each discount


def day_date(day: int) -> date:
    return START + timedelta(days=day - 1)


def tiers(day: int) -> dict[int, tuple[str, datetime]]:
    """Each user's tier at the end of `day` and when it last changed."""
    r = random.Random(1)
    state = {u: (r.choices(TIERS, weights=[6, 3, 1])[0], datetime.combine(START, datetime.min.time())) for u in USERS}
    for d in range(2, day + 1):
        rd = random.Random(1000 + d)
        for u in rd.sample(list(USERS), 15):
            tier = state[u][0]
            up = TIERS[min(TIERS.index(tier) + 1, 2)] if rd.random() < 0.7 else TIERS[max(TIERS.index(tier) - 1, 0)]
            if up != tier:
                state[u] = (up, datetime.combine(day_date(d), datetime.min.time()) + timedelta(hours=8))
    return state


def assignments(day: int) -> pa.Table:
    r = random.Random(2000 + day)
    state = tiers(day)
    rows = []
    for u in r.sample(list(USERS), 200):
        tier = state[u][0]
        if day < BIASED_FROM:
            group = r.choice([0, 5, 10])
        else:  # the "smart" targeting rule: gold users mostly get the big discount
            group = r.choices([0, 5, 10], weights=[1, 1, 8] if tier == "gold" else [5, 3, 2])[0]
        bought = int(r.random() < BASE_RATE[tier] + LIFT[group])
        rows.append({"user_id": u, "date": day_date(day), "treatment_group": group, "target": bought})
    return pa.Table.from_pylist(rows)


def write_day(day: int, out: Path) -> None:
    (out / "assignments").mkdir(parents=True, exist_ok=True)
    pq.write_table(assignments(day), out / "assignments" / f"day={day:03d}.parquet")
    users = [{"user_id": u, "tier": t, "updated_at": ts} for u, (t, ts) in sorted(tiers(day).items())]
    pq.write_table(pa.Table.from_pylist(users), out / "users.parquet")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day", type=int, required=True)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = p.parse_args()
    write_day(args.day, args.out)
    print(f"wrote day {args.day} ({day_date(args.day)}) into {args.out}")


if __name__ == "__main__":
    main()
