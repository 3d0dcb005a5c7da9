"""SQLite: executemany staging in the load's transaction, made truly transactional for DDL too.

Python's sqlite3 module starts transactions lazily and not before DDL; we turn that off and emit
BEGIN ourselves (the recipe in SQLAlchemy's SQLite notes), so a CREATE TABLE rolls back with the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.pool import NullPool

from loaders.errors import TargetError, TargetLocked, UnsupportedByTarget
from loaders.targets.base import MatchedDelete, Staged, Target
from loaders.targets.columns import Column, sa_family
from loaders.targets.sql import on_conflict

#: the watermark parameter in a source query's text (other colons are escaped with a backslash)
_WATERMARK = re.compile(r"(?<!\\):watermark\b")

#: SQLite's storage classes (``typeof``) as column types, for query columns with no declared type
_STORAGE: dict[str, sa.types.TypeEngine[Any]] = {
    "integer": sa.BigInteger(),
    "real": sa.Float(),
    "text": sa.Text(),
    "blob": sa.LargeBinary(),
}

#: primary result codes (the low byte of sqlite3's ``sqlite_errorcode``): SQLITE_BUSY, SQLITE_LOCKED
LOCKED_CODES = {5, 6}


class SQLiteTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    supports_upsert: ClassVar[bool] = True
    upsert_names_keys: ClassVar[bool] = True
    stores_time_zones: ClassVar[bool] = False
    indexes_stage: ClassVar[bool] = True
    matched_delete: ClassVar[MatchedDelete] = "in"
    single_writer: ClassVar[bool] = True
    #: INTEGER is signed 64-bit; a larger value would silently become an inexact REAL
    max_integer: ClassVar[int | None] = 2**63 - 1

    def create_engine(self, url: str) -> sa.Engine:
        # a writer waits for another one up to lock_timeout (SQLite's busy timeout), then fails as locked
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": self.lock_timeout})

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_conn: Any, record: Any) -> None:
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # IMMEDIATE takes the write lock at once: a second run of the mart waits for the first
            # (up to the driver's busy timeout) and then sees what it committed
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    # ------------------------------------------------------------------ statistics of the stage
    # Without statistics SQLite guesses both tables of a join alike, and with a NULL-safe "changed"
    # test in the WHERE it scanned the 1M-row table and probed the 200k-row stage (a merge's UPDATE:
    # 0.81 s against 0.42 s the other way round). ANALYZE of the temp table alone (8 ms for 100k rows,
    # kept in temp.sqlite_stat1, nothing written to the database file) turns the plan round.
    def analyze(self, conn: sa.Connection, name: str) -> None:
        conn.exec_driver_sql(f"ANALYZE temp.{self.dialect.identifier_preparer.quote(name)}")

    def stage(self, conn: sa.Connection, reader: Any, name: str, keys: Sequence[str] = ()) -> Staged:
        staged = super().stage(conn, reader, name, keys)
        self.analyze(conn, name)
        return staged

    def described_stage(self, conn: sa.Connection, name: str, keys: Sequence[str]) -> Staged:
        staged = super().described_stage(conn, name, keys)
        self.analyze(conn, name)
        return staged

    def create_temp_as(
        self, conn: sa.Connection, name: str, select: sa.Select[Any], keys: Sequence[str] = ()
    ) -> sa.Table:
        table = super().create_temp_as(conn, name, select, keys)
        self.analyze(conn, name)
        return table

    def stage_query(
        self, conn: sa.Connection, query: str, params: dict[str, Any], name: str, keys: Sequence[str] = ()
    ) -> Staged:
        """CREATE TABLE ... AS keeps only type affinities (a timestamp becomes NUM and would no longer
        read back as one). A view of the query reports each column's declared type (a view cannot
        hold parameters, so the watermark is NULL there): the stage is created with those types and
        filled with INSERT ... SELECT, still without a row leaving the engine."""
        prep = self.dialect.identifier_preparer
        view = prep.quote(f"{name}_types")
        conn.execute(sa.text(f"CREATE TEMP VIEW {view} AS {_WATERMARK.sub('NULL', query)}"))
        declared = conn.exec_driver_sql(f"PRAGMA temp.table_info({view})").fetchall()
        conn.exec_driver_sql(f"DROP VIEW temp.{view}")
        columns = ", ".join(f"{prep.quote(c[1])} {c[2]}".rstrip() for c in declared)
        conn.exec_driver_sql(f"CREATE TEMP TABLE {prep.quote(name)} ({columns})")
        conn.execute(sa.text(f"INSERT INTO {prep.quote(name)} {query}").bindparams(**params))
        staged = self.described_stage(conn, name, keys)
        if not any(isinstance(c.type, sa.types.NullType) for c in staged.columns):
            return staged
        typed = [self.typed_by_values(conn, name, c) for c in staged.columns]
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in typed))
        return Staged(table=table, columns=typed, rows=staged.rows)

    def typed_by_values(self, conn: sa.Connection, stage: str, column: Column) -> Column:
        """A query expression has no declared type: it takes the storage class of its first value."""
        if not isinstance(column.type, sa.types.NullType):
            return column
        q = self.dialect.identifier_preparer.quote
        first = f"SELECT typeof({q(column.name)}) FROM {q(stage)} WHERE {q(column.name)} IS NOT NULL LIMIT 1"
        found = _STORAGE.get(str(conn.exec_driver_sql(first).scalar()), sa.Text())
        return Column(column.name, found, sa_family(found))

    def upsert(
        self, table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
    ) -> sa.Executable:
        # "WHERE true" keeps SQLite's parser from reading ON CONFLICT as part of a join
        return on_conflict(sqlite.insert(table).from_select(columns, rows.where(sa.true())), table, keys, values)

    def window_start(self, column: Any, grain: str, family: str) -> sa.ColumnElement[Any]:
        # SQLite keeps dates as text; date() parses it, 'start of month' truncates
        return sa.func.date(column) if grain == "day" else sa.func.date(column, "start of month")

    def classify(self, error: BaseException) -> type[TargetError]:
        code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+; older ones give no code
        return TargetLocked if code is not None and code & 0xFF in LOCKED_CODES else TargetError

    def ensure_schema(self, conn: sa.Connection, schema: str | None) -> None:
        if schema:
            raise UnsupportedByTarget(f"SQLite has no schemas; drop the {schema!r} prefix from the table name")
