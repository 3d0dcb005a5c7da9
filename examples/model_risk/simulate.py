"""Run the model-risk marts day by day and show which health checks fire on which day.

    python simulate.py [--days 14]

Each day writes that day's source files and loads the marts with the load time set to the next
morning, as a daily schedule would. A failed check rolls that mart's load back (the target and its
watermark stay as they were) and is listed with its reason.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

from generate import as_of, redeliver, write_day

from loaders import LoaderError, load_project, run_project

HERE = Path(__file__).parent


def simulate(days: int, folder: Path = HERE) -> list[tuple[int, str, str]]:
    """(day, mart, outcome) for every load and upstream fix; outcome is 'ok' or the failed checks."""
    shutil.rmtree(folder / "data", ignore_errors=True)
    (folder / "model_risk.duckdb").unlink(missing_ok=True)
    project = load_project(folder / "marts.yaml")
    events = []
    for day in range(1, days + 1):
        write_day(day, folder / "data")
        events += [(day, "(upstream)", fix) for fix in redeliver(day, folder / "data")]
        run_time = datetime.combine(as_of(day) + timedelta(days=1), time(6))
        for outcome in run_project(project, run_time=run_time):  # in dependency order, each naming its mart
            name = outcome.mart or ""
            if isinstance(outcome, LoaderError):
                events.append((day, name, str(outcome).removeprefix(f"mart {name}: ")))
            else:
                warn = [f"{c['name']}: {c['detail']}" for c in outcome.checks if c["status"] == "warn"]
                events.append((day, name, "ok" + (f" (warn: {'; '.join(warn)})" if warn else "")))
    return events


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=14)
    for day, mart, outcome in simulate(p.parse_args().days):
        if outcome != "ok":
            print(f"day {day:>2} {mart:<21} {outcome}")
    print("every other load passed its checks; the warehouse is in model_risk.duckdb")


if __name__ == "__main__":
    main()
