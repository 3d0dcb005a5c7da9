"""Day N of a personalised-discount experiment: who got which treatment, and who bought.

    python generate.py --day 3 [--out data]

- assignments/day=N.parquet: user_id, date, treatment_group (0, 5 or 10 % off), target (1 = bought).
  Days 1-7 assign at random. From day 8 a "smart" rule gives the 10 % discount mostly to gold-tier
  users, who buy more anyway: the naive effect estimate from those days is biased.
- users.parquet: the user dimension as of day N; users move between tiers over time (updated_at).

And the classic hard cases: day 4's file re-sends one assignment (a later `sent_at`), day 6's carries
five assignments of day 5 that arrived late, day 9 has no assignments file at all, from day 11 the
files have a `channel` column, three users close their account on day 10 and one comes back on day 12.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

START = date(2026, 3, 1)
DUPLICATE_DAY, LATE_DAY, MISSING_DAY, CHANNEL_FROM, CLOSED_DAY, RETURN_DAY = 4, 6, 9, 11, 10, 12
CLOSED, RETURNING = (17, 42, 99), 42
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


def active(day: int) -> list[int]:
    closed = set(CLOSED) if day >= CLOSED_DAY else set()
    if day >= RETURN_DAY:
        closed.discard(RETURNING)
    return [u for u in USERS if u not in closed]


def assignments(day: int) -> pa.Table | None:
    if day == MISSING_DAY:
        return None
    r = random.Random(2000 + day)
    state = tiers(day)
    rows = []
    sent_at = datetime.combine(day_date(day), datetime.min.time()) + timedelta(hours=22)
    for u in r.sample(active(day), 200):
        tier = state[u][0]
        if day < BIASED_FROM:
            group = r.choice([0, 5, 10])
        else:  # the "smart" targeting rule: gold users mostly get the big discount
            group = r.choices([0, 5, 10], weights=[1, 1, 8] if tier == "gold" else [5, 3, 2])[0]
        bought = int(r.random() < BASE_RATE[tier] + LIFT[group])
        rows.append(
            {"user_id": u, "date": day_date(day), "treatment_group": group, "target": bought, "sent_at": sent_at}
        )
    if day == DUPLICATE_DAY:  # the source re-sends one row later the same night
        rows.append({**rows[0], "sent_at": sent_at + timedelta(minutes=30)})
    if day == LATE_DAY:  # five of yesterday's assignments only arrive today
        rows += [{**row, "sent_at": sent_at} for row in late_rows()]
    if day >= CHANNEL_FROM:
        rows = [{**row, "channel": "app" if row["user_id"] % 3 else "web"} for row in rows]
    return pa.Table.from_pylist(rows)


def late_rows() -> list[dict]:
    """Assignments of day LATE_DAY - 1 held back from that day's file."""
    day = LATE_DAY - 1
    users = {row["user_id"] for row in assignments_raw(day)}
    r, state = random.Random(3000), tiers(day)
    rows = []
    for u in sorted(set(active(day)) - users)[:5]:
        group = r.choice([0, 5, 10])
        bought = int(r.random() < BASE_RATE[state[u][0]] + LIFT[group])
        rows.append({"user_id": u, "date": day_date(day), "treatment_group": group, "target": bought})
    return rows


def assignments_raw(day: int) -> list[dict]:
    table = assignments(day)
    return table.to_pylist() if table is not None else []


def write_day(day: int, out: Path) -> None:
    (out / "assignments").mkdir(parents=True, exist_ok=True)
    if (table := assignments(day)) is not None:
        pq.write_table(table, out / "assignments" / f"day={day:03d}.parquet")
    live = set(active(day))
    users = [{"user_id": u, "tier": t, "updated_at": ts} for u, (t, ts) in sorted(tiers(day).items()) if u in live]
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
