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
        import sqlalchemy as sa

        from loaders.urls import resolve_url

        engine = sa.create_engine(resolve_url(_PROJECT.target, _PROJECT.base_dir))
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "select city, count(*) from dim_customer where is_current group by city order by city"
            ).fetchall()
        engine.dispose()
        return {city: n for city, n in rows}

    current_customers_by_city()


loaders_customer_report()
