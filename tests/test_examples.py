"""The examples run as a person would run them, and load the rows they should."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from loaders import load_project, run_project

ROOT = Path(__file__).parent.parent


def copy_example(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(
        ROOT / "examples" / name, dest, ignore=shutil.ignore_patterns("data", "*.duckdb", ".compare", "*.png")
    )
    return dest


def test_quickstart_two_days(tmp_path: Path) -> None:
    qs = copy_example("quickstart", tmp_path)
    subprocess.run([sys.executable, qs / "generate.py", "--day", "1"], check=True, capture_output=True)
    first = run_project(load_project(qs / "marts.yaml"))
    assert all(not isinstance(r, Exception) for r in first), first
    subprocess.run([sys.executable, qs / "generate.py", "--day", "2"], check=True, capture_output=True)
    second = {r.mart: r for r in run_project(load_project(qs / "marts.yaml"))}  # type: ignore[union-attr]
    assert second["fact_orders"].inserted == 27  # 25 new + 2 late rows of day 1 caught by the look-back
    assert (second["dim_customer"].closed, second["dim_customer"].deleted) == (4, 1)
    assert (second["inventory"].updated, second["inventory"].deleted) == (6, 1)
    again = run_project(load_project(qs / "marts.yaml"))
    assert [r.inserted + r.updated + r.closed for r in again if r.strategy != "full"] == [0, 0, 0, 0]  # type: ignore[union-attr]
    con = duckdb.connect(str(qs / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from dim_customer where is_current").fetchone() == (40,)
    con.close()


def test_cross_engine_example(tmp_path: Path) -> None:
    pg = os.environ.get("LOADERS_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("needs LOADERS_TEST_POSTGRES_URL (`.ci/run` sets it)")
    ex = copy_example("cross_engine", tmp_path)
    env = {**os.environ, "PG_URL": pg}
    os.environ["PG_URL"] = pg
    try:
        subprocess.run([sys.executable, ex / "setup_sources.py"], check=True, capture_output=True, env=env)
        for day in (1, 2):
            if day == 2:
                subprocess.run(
                    [sys.executable, ex / "setup_sources.py", "--day", "2"], check=True, capture_output=True, env=env
                )
            orders = run_project(load_project(ex / "pg_to_duckdb.yaml"))[0]
            products = run_project(load_project(ex / "duckdb_to_pg.yaml"))[0]
            assert orders.inserted == 200 and orders.rows_in == 200, orders  # type: ignore[union-attr]
        assert products.updated == 7 and products.unchanged == 8  # type: ignore[union-attr]
        con = duckdb.connect(str(ex / "warehouse.duckdb"), read_only=True)
        assert con.execute("select count(*), count(distinct order_id) from fact_orders").fetchone() == (400, 400)
        con.close()
        with sa.create_engine(pg).connect() as conn:
            assert conn.exec_driver_sql("select count(*) from loaders_example.dim_product").scalar() == 15
    finally:
        os.environ.pop("PG_URL", None)


def test_compare_scores_every_strategy(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from loaders.cli import app
    from loaders.compare import compare

    folder = copy_example("ecommerce", tmp_path)
    scores = {s.strategy: s for s in compare(folder, 10, tmp_path / "work")}
    assert all(s.failed_days == [8] for s in scores.values())  # the day without an extract, and only it
    scd2 = scores["scd2"]
    # history is exact but for day 8: changes made that day and overwritten by day 9 were never extracted
    assert scd2.correct_now == 1.0 and 0.99 <= scd2.history < 1.0 and scd2.deletes_missed == 0
    assert scores["full reload"].history is None and scores["full reload"].deletes_missed == 0
    assert scores["full reload"].duplicates == 1 and scores["merge (upsert)"].duplicates == 0  # day 4, no keys
    assert scores["append (cursor)"].correct_now < 1.0  # the late change slipped past the watermark
    assert scores["append + lookback"].correct_now == 1.0
    assert scores["merge (upsert)"].deletes_missed > 0 and scores["merge + delete_missing"].deletes_missed == 0
    assert scores["snapshot"].history is not None and scores["snapshot"].history < scd2.history  # a day-8 hole
    result = CliRunner().invoke(app, ["compare", str(folder), "--days", "6", "--png", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "scd2" in result.output and (tmp_path / "c.png").stat().st_size > 10_000


def run_example(name: str, tmp_path: Path, module: str, *args: Any) -> Any:
    """Import an example's script from a copy of its folder and call its `simulate`."""
    folder = copy_example(name, tmp_path)
    sys.path.insert(0, str(folder))
    try:
        return __import__(module).simulate(*args, folder=folder), folder
    finally:
        sys.path.remove(str(folder))
        for mod in ("simulate", "generate", "scenario"):
            sys.modules.pop(mod, None)


def test_shop_marts_over_ten_days(tmp_path: Path) -> None:
    log, folder = run_example("ecommerce", tmp_path, "simulate", 10)
    failed = [(day, mart) for day, mart, what in log if what.startswith("FAILED")]
    # the day without a customers extract: that mart, and fact_orders, which depends on it, waits a day
    assert failed == [(8, "dim_customer"), (8, "fact_orders")]
    con = duckdb.connect(str(folder / "shop.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*), count(distinct order_id) from fact_orders").fetchone() == (318, 318)
        assert con.execute("select count(*) from daily_sales").fetchone() == (20,)  # 10 days x 2 stores
        assert con.execute(
            "select revenue from daily_sales where sale_date = date '2026-01-08' and store = 'south'"
        ).fetchone() == (1000 + 37 * 8 + 10,)  # restated twice: the last version wins
        assert con.execute("select count(*) from dim_product where sku = 'SKU-12'").fetchone() == (0,)
        assert con.execute("select count(*) from inventory where sku = 'SKU-12'").fetchone() == (0,)
        assert con.execute("select count(*) from dim_customer where is_current and email is null").fetchone() == (0,)
    finally:
        con.close()


def test_discount_experiment_needs_point_in_time_tiers(tmp_path: Path) -> None:
    estimates, folder = run_example("discounts", tmp_path, "simulate", 14)
    naive, within = estimates["naive, all days"], estimates["all days, within tier (point in time)"]
    assert naive > 6  # inflated by the biased targeting of days 8-14 (true lift: 4 points)
    assert abs(within - 4.0) < 1.0
    con = duckdb.connect(str(folder / "discounts.duckdb"), read_only=True)
    try:  # the hard cases: re-sent row, late rows, missing day, new column, closed and returning users
        assert con.execute(
            "select count(*), count(distinct (user_id, date)), count(channel) from fact_treatment"
        ).fetchone() == (2605, 2605, 800)
        assert con.execute("select count(*) from fact_treatment where date = date '2026-03-05'").fetchone() == (205,)
        assert con.execute("select count(*) from fact_treatment where date = date '2026-03-09'").fetchone() == (0,)
        assert con.execute(
            "select user_id, count(*) filter (where is_current) from dim_user where user_id in "
            "(17, 42) group by 1 order by 1"
        ).fetchall() == [(17, 0), (42, 1)]
    finally:
        con.close()


def test_shop_changes_follow_the_table(tmp_path: Path) -> None:
    """Three days of Debezium events: `orders` equals the source table each day, `order_history`'s
    current rows too, with one version per insert or update event."""
    ex = copy_example("shop_changes", tmp_path)
    project = load_project(ex / "marts.yaml")
    events = 0
    for day in (1, 2, 3):
        subprocess.run([sys.executable, ex / "generate.py", "--day", str(day)], check=True, capture_output=True)
        assert all(not isinstance(r, Exception) for r in run_project(project))
        lines = (ex / "data" / "topics" / "orders").glob(f"day={day:02d}-*.jsonl")
        payloads = [json.loads(x)["payload"] for f in lines for x in dict.fromkeys(f.read_text().splitlines())]
        ops = [p["op"] for p in payloads if p]  # tombstones have no payload
        events += sum(1 for op in ops if op in ("c", "r", "u"))  # dict.fromkeys: the line sent twice once
        con = duckdb.connect(str(ex / "shop.duckdb"), read_only=True)
        truth = str(ex / "data" / "truth" / "orders.parquet")
        cols = "order_id, customer_id, status, amount, placed_on, updated_at"
        for mart in ("orders", "(select * from order_history where is_current)"):
            only_mart = f"select {cols} from {mart} except select {cols} from '{truth}'"
            only_table = f"select {cols} from '{truth}' except select {cols} from {mart}"
            differ = con.execute(f"select count(*) from (({only_mart}) union all ({only_table}))").fetchone()
            assert differ == (0,), (day, mart)
        assert con.execute("select count(*) from order_history").fetchone() == (events,)
        con.close()


def test_shop_changes_live(tmp_path: Path) -> None:
    """The live version: the orders table changes in PostgreSQL (a throwaway cluster with
    wal_level=logical) and both marts equal it after every day's run."""
    from pgcluster import throwaway_postgres

    ex = copy_example("shop_changes", tmp_path)
    with throwaway_postgres({"wal_level": "logical"}) as cluster:
        done = subprocess.run(
            [sys.executable, ex / "live.py", "--pg", cluster.url, "--days", "3"], capture_output=True, text=True
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("marts == table: True") == 3, done.stdout
    assert "created replication slot loaders_orders" in done.stderr  # said in the output
