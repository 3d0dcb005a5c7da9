"""Load the shop's marts day by day and print what each load did.

    python simulate.py [--days 14]

The day with no customers extract (day 8) fails `dim_customer` cleanly, and `fact_orders`, which
depends on it, waits a day; the other marts go on.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

from scenario import day_date, truth, write_shop

from loaders import LoaderError, load_project, run_project

HERE = Path(__file__).parent


def simulate(days: int = 14, folder: Path = HERE) -> list[tuple[int, str, str]]:
    shutil.rmtree(folder / "data", ignore_errors=True)
    (folder / "shop.duckdb").unlink(missing_ok=True)
    history, project, log = truth(days), load_project(folder / "marts.yaml"), []
    for day in range(1, days + 1):
        write_shop(day, folder / "data", history)
        run_time = datetime.combine(day_date(day) + timedelta(days=1), time(2))
        for r in run_project(project, run_time=run_time):  # in dependency order, each naming its mart
            name = r.mart or ""
            if isinstance(r, LoaderError):
                log.append((day, name, "FAILED " + str(r).removeprefix(f"mart {name}: ")))
            else:
                log.append((day, name, f"+{r.inserted} ~{r.updated} -{r.deleted} closed {r.closed}"))
    return log


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=14)
    for day, mart, what in simulate(p.parse_args().days):
        print(f"day {day:>2}  {mart:<13} {what}")


if __name__ == "__main__":
    main()
