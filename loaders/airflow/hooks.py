"""A connection type "loaders" whose host field is any SQLAlchemy URL (for engines Airflow has no type for)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook


class LoadersHook(BaseHook):
    conn_name_attr = "loaders_conn_id"
    default_conn_name = "loaders_default"
    conn_type = "loaders"
    hook_name = "loaders (SQLAlchemy URL)"

    def __init__(self, loaders_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders_conn_id = loaders_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["port", "schema", "extra"],
            "relabeling": {"host": "SQLAlchemy URL"},
            "placeholders": {"host": "postgresql+psycopg://user@db:5432/warehouse"},
        }
