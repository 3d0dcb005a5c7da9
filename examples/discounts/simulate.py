"""Load 14 days of the discount experiment, then estimate the effect of the 10 % discount three ways.

    python simulate.py

1. naive, all days: conversion with 10 % off minus conversion with none. Biased: from day 8 the big
   discount goes mostly to gold users, who buy more anyway.
2. randomised days only (1-7): unbiased, but half the data.
3. all days, within tier: compare like with like, using each user's tier *on the day of the
   treatment* (a point-in-time join on the SCD2 dimension). Joining today's tier instead would use
   information the targeting rule did not have.
"""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb
from generate import BIASED_FROM, day_date, write_day

from loaders import LoaderError, load_project, run_project

HERE = Path(__file__).parent

EFFECT = """
with t as ({rows})
select round(100 * (avg(target) filter (where treatment_group = 10) - avg(target) filter (where treatment_group = 0)), 2)
from t
"""
WITHIN_TIER = """
with t as ({rows}), by_tier as (
  select tier, count(*) as n,
         avg(target) filter (where treatment_group = 10) - avg(target) filter (where treatment_group = 0) as lift
  from t group by tier)
select round(100 * sum(lift * n) / sum(n), 2) from by_tier
"""
POINT_IN_TIME = """
select f.*, u.tier from fact_treatment f join dim_user u
  on u.user_id = f.user_id and u.valid_from <= f.date + interval 1 day
 and (u.valid_to is null or u.valid_to > f.date + interval 1 day)
"""


def simulate(days: int = 14, folder: Path = HERE) -> dict[str, float]:
    shutil.rmtree(folder / "data", ignore_errors=True)
    (folder / "discounts.duckdb").unlink(missing_ok=True)
    project = load_project(folder / "marts.yaml")
    for day in range(1, days + 1):
        write_day(day, folder / "data")
        for outcome in run_project(project, run_time=datetime.combine(day_date(day) + timedelta(days=1), time(5))):
            if isinstance(outcome, LoaderError):
                raise outcome
    con = duckdb.connect(str(folder / "discounts.duckdb"), read_only=True)
    try:
        randomised = f"select * from fact_treatment where date < date '{day_date(BIASED_FROM)}'"
        return {
            "naive, all days": con.execute(EFFECT.format(rows="select * from fact_treatment")).fetchone()[0],
            "randomised days only": con.execute(EFFECT.format(rows=randomised)).fetchone()[0],
            "all days, within tier (point in time)": con.execute(WITHIN_TIER.format(rows=POINT_IN_TIME)).fetchone()[0],
        }
    finally:
        con.close()


def main() -> None:
    print("estimated lift of the 10 % discount, in conversion points (true lift: 4.0)")
    for method, value in simulate().items():
        print(f"  {method:<40} {value:>6}")


if __name__ == "__main__":
    main()
