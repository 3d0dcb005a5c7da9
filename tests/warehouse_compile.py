"""A warehouse adapter over a DB-API that runs nothing: every statement the load sends is recorded.

The adapter, its SQLAlchemy dialect and the runner are the real ones; only the driver is replaced.
SELECTs get answers that keep a load on its normal path: an aggregate-only SELECT returns one row
(``count(*)`` without a WHERE: 3 rows, with one: 0, so no key is NULL or duplicated and no key is new;
``max``/``min``: NULL), any other SELECT returns no rows. Tables the load creates are remembered, so a
second load sees the first one's table, as on a real warehouse.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import sqlalchemy as sa
from sqlalchemy.sql import functions

from loaders.targets import TARGETS, Column, TableRef, adapter_class

#: a URL per warehouse, in its dialect's form; nothing connects to it
URLS = {
    "snowflake": "snowflake://loader@acme-xy12345/analytics/marts",
    "bigquery": "bigquery://acme-project/marts",
    "databricks": "databricks://token:secret@acme.cloud.databricks.com?http_path=/sql/1.0/warehouses/w1&catalog=main&schema=marts",
    "trino": "trino://loader@trino.acme.internal:8080/iceberg/marts",
}


class _Cursor:
    arraysize = 1

    def __init__(self, log: list[str]) -> None:
        self.log, self.description, self.rowcount, self.rows = log, None, 0, []
        self.answer: tuple[list[Any], list[tuple[Any, ...]]] | None = None

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append(sql)
        names, self.rows = self.answer or ([], [])
        self.description = [(n, None, None, None, None, None, None) for n in names] if names else None
        self.rowcount, self.answer = 0, None

    def executemany(self, sql: str, seq: Any) -> None:
        self.log.append(sql)
        self.description, self.rowcount = None, len(list(seq))

    def fetchone(self) -> Any:
        return self.rows.pop(0) if self.rows else None

    def fetchmany(self, size: int = 1) -> list[Any]:
        out, self.rows = self.rows[:size], self.rows[size:]
        return out

    def fetchall(self) -> list[Any]:
        out, self.rows = self.rows, []
        return out

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:  # driver extras a dialect may touch (sfqid, query_id, ...)
        return None


class _Connection:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def cursor(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self.log)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


class _Error(Exception):
    pass


def fake_dbapi(log: list[str]) -> Any:
    return types.SimpleNamespace(
        paramstyle="pyformat", apilevel="2.0", threadsafety=1, connect=lambda *a, **k: _Connection(log),
        Error=_Error, Warning=Warning, InterfaceError=_Error, DatabaseError=_Error, OperationalError=_Error,
        IntegrityError=_Error, ProgrammingError=_Error, NotSupportedError=_Error, InternalError=_Error,
        DataError=_Error, Binary=bytes,
    )  # fmt: skip


def _answer(statement: Any) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    if not isinstance(statement, sa.Select):
        return None
    columns = list(statement.selected_columns)
    names = [c.key or f"c{i}" for i, c in enumerate(columns)]
    aggregates = [getattr(getattr(c, "element", c), "name", None) for c in columns]
    if not all(isinstance(getattr(c, "element", c), functions.FunctionElement) for c in columns):
        return names, []
    if statement.whereclause is not None:  # a check (NULL keys, new keys, truncate events): none found
        return names, [tuple(0 if a == "count" else None for a in aggregates)]
    return names, [tuple(_whole(a, c) for a, c in zip(aggregates, columns, strict=True))]


def _whole(aggregate: str | None, column: Any) -> Any:
    """An aggregate without WHERE: of the whole batch (3 rows, the newest value), unless it is over a
    CASE (counting or finding what a check looks for: none found)."""
    function = getattr(column, "element", column)
    if any(isinstance(x, sa.Case) for x in function.clauses):
        return 0 if aggregate == "count" else None
    return 3 if aggregate == "count" else _newest(column)


def _newest(column: Any) -> Any:
    """A max/min of the whole batch (the new watermark), in the column's type."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    return {int: 204, datetime: datetime(2026, 1, 2, 4), str: "b4"}.get(kind)


@contextlib.contextmanager
def _no_cloud_credentials() -> Iterator[None]:
    """sqlalchemy-bigquery builds a client (and asks Google for credentials) in create_engine."""
    try:
        import google.auth
        from google.auth.credentials import AnonymousCredentials
    except ImportError:
        yield
        return
    with mock.patch.object(google.auth, "default", lambda *a, **k: (AnonymousCredentials(), "acme-project")):
        yield


def compiled_target(name: str, log: list[str]) -> Any:
    """The real adapter for warehouse ``name``, its driver replaced by the recording one."""
    base = adapter_class(TARGETS[name])

    class Compiled(base):  # type: ignore[misc, valid-type]
        catalog: dict[str, list[Column]] = {}

        def create_engine(self, url: str) -> sa.Engine:
            with _no_cloud_credentials():
                engine = sa.create_engine(url, module=fake_dbapi(log), _initialize=False, **self.engine_options)

            @sa.event.listens_for(engine, "before_cursor_execute")
            def answer(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool) -> None:
                compiled = getattr(context, "compiled", None)
                stmt = compiled.statement if compiled is not None else None
                table = getattr(getattr(stmt, "table", None), "name", None)
                if isinstance(stmt, sa.Insert) and table == "_loaders_watermarks":
                    self.catalog["_watermark"] = [params[k] for k in ("value", "value_type", "cursor_column")]  # type: ignore[misc]
                froms = {getattr(f, "name", None) for f in getattr(stmt, "get_final_froms", list)()}
                if isinstance(stmt, sa.Select) and "_loaders_watermarks" in froms and "_watermark" in self.catalog:
                    cursor.answer = (["value", "value_type", "cursor_column"], [tuple(self.catalog["_watermark"])])
                else:
                    cursor.answer = _answer(stmt)

            return engine

        def describe_table(self, conn: sa.Connection, ref: TableRef) -> list[Column] | None:
            if ref.name.startswith("_loaders_stage"):  # a query staged in place: the source's columns
                return self.catalog.get("_source")
            return self.catalog.get(str(ref))

        def create_table(self, conn: sa.Connection, ref: TableRef, columns: list[Column], **kw: Any) -> sa.Table:
            self.catalog[str(ref)] = list(columns)
            return super().create_table(conn, ref, columns, **kw)

    return Compiled(URLS[name])
