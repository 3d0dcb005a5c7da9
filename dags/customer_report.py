"""Data-aware scheduling: this DAG runs whenever the quick start's dim_customer mart is refreshed."""

import os
from pathlib import Path

from airflow.sdk import dag, task

from loaders.airflow import mart_asset
from loaders.project import load_project

_MARTS = Path(os.environ.get("LOADERS_MARTS_DIR", Path(__file__).parent / "marts")) / "quickstart.yaml"
_PROJECT = load_project(_MARTS)
DIM_CUSTOMER = mart_asset("dim_customer", _PROJECT.marts["dim_customer"].table, _PROJECT.target)


@dag(schedule=[DIM_CUSTOMER], tags=["loaders", "quickstart"])
def loaders_customer_report():
    @task
    def current_customers_by_city() -> dict[str, int]:
        from loaders.targets import open_target
        from loaders.urls import resolve_url

        # through loaders' adapter: on a DuckDB file still being written by the other marts' tasks
        # (the asset fires when dim_customer is done, not the whole DAG), it waits for the writer
        target = open_target(resolve_url(_PROJECT.target, _PROJECT.base_dir))
        try:
            with target.connect() as conn:
                rows = conn.exec_driver_sql(
                    "select city, count(*) from dim_customer where is_current group by city order by city"
                ).fetchall()
        finally:
            target.close()
        return {city: n for city, n in rows}

    current_customers_by_city()


loaders_customer_report()
