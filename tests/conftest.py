"""Engines the suite runs against, one fixture parameter each.

DuckDB always runs (embedded). Server engines run when their URL is set (``.ci/run`` sets them):
``LOADERS_TEST_POSTGRES_URL``, ``LOADERS_TEST_MYSQL_URL``; a set URL whose server is down skips its
tests with the reason. Each test gets its own database file or schema, so runs never collide.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from sqlalchemy.dialects import mysql

#: model tests: a fixed, fast budget in CI; `--hypothesis-profile long` for the 10,000-example run
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=_QUIET)
_LONG = int(os.environ.get("LOADERS_HYPOTHESIS_EXAMPLES", "10000"))
settings.register_profile("long", max_examples=_LONG, deadline=None, suppress_health_check=_QUIET)
settings.load_profile("ci")


@dataclass
class Engine:
    """A target for one test: its URL and a way to read tables back for exact comparison."""

    name: str
    url: str

    def rows(self, table: str, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
        """All rows of ``table`` (or the given columns), sorted, for comparing with a model."""
        with self.connect() as conn:
            return self.rows_on(conn, table, columns)

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """One plain SQLAlchemy connection, for tests that read several things at one moment."""
        engine = sa.create_engine(self.sa_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def rows_on(self, conn: sa.Connection, table: str, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
        schema, _, name = table.rpartition(".")
        if self.name == "duckdb":  # duckdb-engine cannot reflect; DuckDB returns typed values
            t: Any = sa.table(name, *(sa.column(c) for c in columns or []), schema=schema or None)
        else:  # reflect, so SQLite's text timestamps and MariaDB's TINYINT(1) come back typed
            t = sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema or None)
            for c in t.columns:
                if isinstance(c.type, mysql.TINYINT) and c.type.display_width == 1:
                    c.type = sa.Boolean()
        if columns:
            query = sa.select(*(t.c[c] for c in columns))
        else:
            query = sa.select(t) if t.c else sa.select(sa.text("*")).select_from(t)
        return sorted((tuple(r) for r in conn.execute(query)), key=_sort_key)

    @property
    def sa_url(self) -> str:
        """The URL without loaders' own query parameters, for plain SQLAlchemy."""
        return (
            sa.engine.make_url(self.url)
            .difference_update_query(["loaders_adapter"])
            .render_as_string(hide_password=False)
        )

    def scalar(self, sql: str, **params: Any) -> Any:
        engine = sa.create_engine(self.sa_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()

    def table_exists(self, table: str) -> bool:
        from loaders.targets import TableRef, open_target

        target = open_target(self.url)
        try:
            with target.connect() as conn:
                return target.describe_table(conn, TableRef.parse(table)) is not None
        finally:
            target.close()


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in row)


def _duckdb(tmp_path: Path) -> Iterator[Engine]:
    yield Engine("duckdb", f"duckdb:///{tmp_path / f'w{uuid.uuid4().hex[:6]}.duckdb'}")


def _server(var: str, kind: str) -> sa.Engine:
    url = env_url(var)
    if not url:
        pytest.skip(f"{kind} tests need {var} (`.ci/run` sets it)")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except sa.exc.OperationalError as e:
        pytest.skip(
            f"{kind} at {engine.url.render_as_string(hide_password=True)} is not reachable: "
            f"{str(e.orig).splitlines()[0]}"
        )
    return engine


def _postgres(tmp_path: Path) -> Iterator[Engine]:
    """A schema per test, made the default with search_path, dropped afterwards."""
    admin = _server("LOADERS_TEST_POSTGRES_URL", "PostgreSQL")
    schema = f"lt_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'create schema "{schema}"')
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield Engine("postgres", url.render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'drop schema "{schema}" cascade')
        admin.dispose()


def _mysql(tmp_path: Path) -> Iterator[Engine]:
    """A database per test, dropped afterwards."""
    admin = _server("LOADERS_TEST_MYSQL_URL", "MariaDB/MySQL")
    db = f"lt_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create database `{db}`")
    try:
        yield Engine("mysql", admin.url.set(database=db).render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop database `{db}`")
        admin.dispose()


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    yield Engine("sqlite", f"sqlite:///{tmp_path / f's{uuid.uuid4().hex[:6]}.db'}")


def _generic(tmp_path: Path) -> Iterator[Engine]:
    """SQLite through the generic SQLAlchemy adapter: the path any engine without an adapter takes."""
    yield Engine("generic", f"sqlite:///{tmp_path / f'g{uuid.uuid4().hex[:6]}.db'}?loaders_adapter=generic")


ENGINES = {"duckdb": _duckdb, "postgres": _postgres, "mysql": _mysql, "sqlite": _sqlite, "generic": _generic}
AVAILABLE = list(ENGINES)


@pytest.fixture(params=AVAILABLE)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from ENGINES[request.param](tmp_path)


@pytest.fixture
def duck(tmp_path: Path) -> Engine:
    """DuckDB only: for tests of the CLI and sources, where the engine is not the point."""
    return Engine("duckdb", f"duckdb:///{tmp_path / 'w.duckdb'}")


def env_url(var: str) -> str | None:
    return os.environ.get(var) or None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite tests/golden/*/*.sql from the SQL each strategy runs now."
    )
