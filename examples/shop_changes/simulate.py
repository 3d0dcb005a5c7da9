"""Seven days of a shop's orders table changing, followed by two marts from its Debezium topic.

    python simulate.py [--days 7]

Each day: write the day's change events (generate.py), run the marts, and check `orders` against the
table's true state. Then ask the history what no daily snapshot can answer.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from loaders import Project, load_project, run_project

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    shutil.rmtree(HERE / "data", ignore_errors=True)
    (HERE / "shop.duckdb").unlink(missing_ok=True)
    project = load_project(HERE / "marts.yaml")
    for day in range(1, args.days + 1):
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--day", str(day)], check=True, capture_output=True)
        run_day(project, day, matches)
    questions()


def run_day(project: Project, day: int, check: Callable[[], bool]) -> None:
    """Run both marts and print a line: what each did, and whether they equal the table."""
    results = run_project(project)
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise SystemExit(f"day {day}: {failed[0]}")
    orders, history = results
    print(
        f"day {day}: orders +{orders.inserted} ~{orders.updated} -{orders.deleted}, "  # type: ignore[union-attr]
        f"history +{history.inserted} versions; marts == table: {check()}"  # type: ignore[union-attr]
    )


def matches() -> bool:
    """`orders`, and the current versions of `order_history`, hold exactly the rows the table holds."""
    con = duckdb.connect(str(HERE / "shop.duckdb"), read_only=True)
    truth = str(HERE / "data" / "truth" / "orders.parquet")
    cols = "order_id, customer_id, status, amount, placed_on, updated_at"
    same = True
    for mart in ("orders", "(select * from order_history where is_current)"):
        differ = con.execute(
            f"select count(*) from ((select {cols} from {mart} except select {cols} from '{truth}') "
            f"union all (select {cols} from '{truth}' except select {cols} from {mart}))"
        ).fetchone()
        same = same and differ == (0,)
    con.close()
    return same


def questions() -> None:
    con = duckdb.connect(str(HERE / "shop.duckdb"), read_only=True)
    noon = "timestamptz '2026-05-03 12:00:00+00'"
    paid = con.execute(
        f"select count(*) from order_history where status = 'paid' and valid_from <= {noon} "
        f"and (valid_to is null or valid_to > {noon})"
    ).fetchone()
    print(f"orders in status 'paid' at noon on day 3: {paid[0]}")
    instant = con.execute("select count(*) from order_history where valid_to = valid_from").fetchone()
    print(f"versions that lasted no time (paid and shipped in one transaction): {instant[0]}")
    cancelled = con.execute(
        "select count(distinct order_id) from order_history h where not is_current "
        "and not exists (select 1 from order_history c where c.order_id = h.order_id and c.is_current)"
    ).fetchone()
    print(f"orders cancelled (deleted in the source, closed in the history): {cancelled[0]}")
    con.close()


if __name__ == "__main__":
    main()
