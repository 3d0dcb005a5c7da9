"""Airflow Connections -> SQLAlchemy URLs, so credentials stay in Airflow and out of marts files."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from loaders.errors import SpecError

#: Airflow conn_type -> SQLAlchemy driver name
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}


def url_from_connection(conn: Any) -> str:
    """A connection's SQLAlchemy URL: ``extra.sqlalchemy_url`` if set (and for conn_type ``loaders``,
    the host field), else built from its type, host, port, login, password and schema (the database)."""
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    if conn.conn_type == "loaders":
        if not conn.host:
            raise SpecError(f"connection {conn.conn_id!r}: put the SQLAlchemy URL in its host field")
        return str(conn.host)
    driver = DRIVERS.get(conn.conn_type)
    if driver is None:
        raise SpecError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; loaders reads "
            f"{', '.join(sorted(DRIVERS))} or 'loaders' (a SQLAlchemy URL), or extra.sqlalchemy_url"
        )
    if driver in ("sqlite", "duckdb"):  # file databases: the path is in host or schema
        return f"{driver}:///{conn.host or conn.schema or ':memory:'}"
    url = sa.engine.URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    )
    return url.render_as_string(hide_password=False)


def connection_url(conn_id: str) -> str:
    from airflow.sdk import BaseHook

    return url_from_connection(BaseHook.get_connection(conn_id))
