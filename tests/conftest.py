"""Engines the suite runs against, one fixture parameter each.

DuckDB always runs (embedded). Server engines run when their URL is set (``.ci/run`` sets them):
``LOADERS_TEST_POSTGRES_URL``, ``LOADERS_TEST_MYSQL_URL``; a set URL whose server is down skips its
tests with the reason. Each test gets its own database file or schema, so runs never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from loaders.targets import TARGETS


@dataclass
class Engine:
    """A target for one test: its URL and a way to read tables back for exact comparison."""

    name: str
    url: str

    def rows(self, table: str, columns: list[str] | None = None) -> list[tuple[Any, ...]]:
        """All rows of ``table`` (or the given columns), sorted, for comparing with a model."""
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                schema, _, name = table.rpartition(".")
                t = sa.table(name, *(sa.column(c) for c in columns or []), schema=schema or None)
                query = sa.select(*t.c) if columns else sa.select(sa.text("*")).select_from(t)
                result = [tuple(r) for r in conn.execute(query)]
        finally:
            engine.dispose()
        return sorted(result, key=_sort_key)

    def scalar(self, sql: str, **params: Any) -> Any:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
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


ENGINES = {"duckdb": _duckdb}
AVAILABLE = [name for name in ENGINES if name in TARGETS]


@pytest.fixture(params=AVAILABLE)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from ENGINES[request.param](tmp_path)


@pytest.fixture
def duck(tmp_path: Path) -> Engine:
    """DuckDB only: for tests of the CLI and sources, where the engine is not the point."""
    return Engine("duckdb", f"duckdb:///{tmp_path / 'w.duckdb'}")


def env_url(var: str) -> str | None:
    return os.environ.get(var) or None
