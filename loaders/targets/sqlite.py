"""SQLite: executemany staging in the load's transaction, made truly transactional for DDL too.

Python's sqlite3 module starts transactions lazily and not before DDL; we turn that off and emit
BEGIN ourselves (the recipe in SQLAlchemy's SQLite notes), so a CREATE TABLE rolls back with the data.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.pool import NullPool

from loaders.errors import TargetError, TargetLocked, UnsupportedByTarget
from loaders.targets.base import Target
from loaders.targets.sql import on_conflict

#: primary result codes (the low byte of sqlite3's ``sqlite_errorcode``): SQLITE_BUSY, SQLITE_LOCKED
LOCKED_CODES = {5, 6}


class SQLiteTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    supports_upsert: ClassVar[bool] = True
    stores_time_zones: ClassVar[bool] = False
    indexes_stage: ClassVar[bool] = True
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
