"""MariaDB and MySQL: batched multi-row INSERT staging, GET_LOCK per mart, DDL outside transactions.

DDL commits implicitly here, so the runner creates or alters the target table before any data is
written and undoes that DDL itself if the load fails (``ddl_is_transactional = False``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from loaders.errors import TargetError, TargetLocked, TransientTargetError
from loaders.targets.base import MatchedDelete, Staged, Target
from loaders.targets.columns import BOOLEAN, STRING, TIME, TIMESTAMP, TIMESTAMPTZ, Column, TableRef, digest, sa_family
from loaders.targets.connections import lock_names
from loaders.targets.sql import on_duplicate_key

#: server errors a retry can fix: 1040 too many connections, 1053 server shutting down, 1205 lock wait
#: timeout, 1213 deadlock, 1317 query interrupted, 1927 connection killed; client errors 2002/2003
#: cannot connect, 2006 server has gone away, 2013 lost connection, 2055 lost connection (SSL)
TRANSIENT_ERRNOS = {1040, 1053, 1205, 1213, 1317, 1927, 2002, 2003, 2006, 2013, 2055}
LOCKED_ERRNOS = {1205}
_ARROW = {STRING: pa.string(), TIMESTAMP: pa.timestamp("us"), TIMESTAMPTZ: pa.timestamp("us"), TIME: pa.time64("us")}


class MySQLTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    ddl_is_transactional: ClassVar[bool] = False
    stores_time_zones: ClassVar[bool] = False
    supports_upsert: ClassVar[bool] = True
    indexes_stage: ClassVar[bool] = True
    matched_delete: ClassVar[MatchedDelete] = "join"

    def create_engine(self, url: str) -> sa.Engine:
        return sa.create_engine(url, pool_pre_ping=True)

    @contextlib.contextmanager
    def lock(self, conn: sa.Connection, mart: str, table: str | None = None) -> Iterator[None]:
        """GET_LOCK per database and mart (and table); lock names are server-wide, so the database is
        in the name."""
        with self.translate_errors(mart):
            db = conn.execute(sa.text("select database()")).scalar()
        names = [{"n": "loaders:" + digest(f"{db}:{n}").hex()} for n, _ in lock_names(mart, table)]
        acquire, release = "select get_lock(:n, 0) = 1", "select release_lock(:n)"
        with self.server_lock(conn, mart, acquire, release, names, "GET_LOCK", table):
            yield

    def classify(self, error: BaseException) -> type[TargetError]:
        errno = error.args[0] if error.args and isinstance(error.args[0], int) else None
        if errno in LOCKED_ERRNOS:
            return TargetLocked
        return TransientTargetError if errno in TRANSIENT_ERRNOS else TargetError

    def timestamp_type(self) -> sa.types.TypeEngine[Any]:
        return mysql.DATETIME(fsp=6)  # plain DATETIME keeps whole seconds only

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        col = super().column_for_arrow(name, t)
        if col.family in (TIMESTAMP, TIMESTAMPTZ):  # no zoned type: stored as UTC, microseconds kept
            return Column(name, mysql.DATETIME(fsp=6), TIMESTAMP)
        if col.family == TIME:
            return Column(name, mysql.TIME(fsp=6), TIME)
        if col.family == STRING:
            # Binary collation: the default *_ci collations would treat 'b' and 'B' as the same key
            # and hide case-only changes from merge, SCD2 and CDC.
            return Column(name, mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), STRING)
        return col

    def upsert(
        self, table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
    ) -> sa.Executable:
        return on_duplicate_key(table, rows, columns, keys, values)

    def upsert_counts(self, rowcount: int, rows: int, new: int) -> tuple[int, int]:
        """MariaDB counts 1 per inserted row, 2 per changed row and (FOUND_ROWS) 1 per unchanged one."""
        return new, max(rowcount - rows, 0)

    def window_start(self, column: Any, grain: str, family: str) -> sa.ColumnElement[Any]:
        if grain == "day":
            return sa.func.date(column)
        return sa.func.date_format(column, "%Y-%m-01")

    def key_column(self, column: Column) -> Column:
        if column.family == STRING:  # an index needs a bounded length; longer keys fail loudly
            return Column(column.name, mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), STRING)
        return column

    def describe_table(self, conn: sa.Connection, ref: TableRef) -> list[Column] | None:
        cols = super().describe_table(conn, ref)
        if cols is None:
            return None
        return [Column(c.name, c.type, BOOLEAN) if _is_bool(c.type) else c for c in cols]

    def _key_clause(self, name: str, columns: Any, keys: Sequence[str]) -> str:
        """``KEY ix (k(255), ...)``: text keys need a prefix length to be indexed."""
        q = self.dialect.identifier_preparer.quote

        def indexed(k: str) -> str:  # TEXT columns need a prefix length to be indexed
            unbounded = isinstance(columns[k].type, sa.String) and not getattr(columns[k].type, "length", None)
            return f"{q(k)}(255)" if unbounded else q(k)

        parts = [indexed(k) for k in keys]
        return f"KEY {q('ix_' + name)} ({', '.join(parts)})"

    def create_temp(self, conn: sa.Connection, table: sa.Table, keys: Sequence[str]) -> None:
        """The key index is declared inside CREATE TEMPORARY TABLE: on MariaDB a separate CREATE INDEX,
        even on a temporary table, commits the load's transaction implicitly."""
        ddl = str(sa.schema.CreateTable(table).compile(dialect=self.dialect)).rstrip()
        if keys:
            ddl = f"{ddl.removesuffix(')').rstrip()},\n\t{self._key_clause(table.name, table.c, keys)}\n)"
        conn.exec_driver_sql(ddl)

    def create_temp_as(
        self, conn: sa.Connection, name: str, select: sa.Select[Any], keys: Sequence[str] = ()
    ) -> sa.Table:
        compiled = select.compile(dialect=self.dialect)
        key = f"({self._key_clause(name, select.selected_columns, keys)}) " if keys else ""
        quoted = self.dialect.identifier_preparer.quote(name)
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {quoted} {key}{compiled.string}", compiled.params)
        return sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in select.selected_columns))

    def stage_query(
        self, conn: sa.Connection, query: str, params: dict[str, Any], name: str, keys: Sequence[str] = ()
    ) -> Staged:
        """CREATE ... AS would copy the source columns' case-insensitive collations into the stage
        (hiding 'b' -> 'B' from merge, SCD2 and CDC) and cannot take the key index afterwards without
        an implicit commit. So: the query's columns from an empty CREATE ... AS, then the stage
        created with this adapter's types and key index, filled by INSERT ... SELECT in the engine."""
        prep = self.dialect.identifier_preparer
        probe = prep.quote(f"{name}_types")
        conn.execute(
            sa.text(f"CREATE TEMPORARY TABLE {probe} AS SELECT * FROM ({query}) AS _q LIMIT 0").bindparams(**params)
        )
        found = self.describe_table(conn, TableRef(f"{name}_types")) or []
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE {probe}")
        columns = [self.staged_column(c) for c in found]
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), prefixes=["TEMPORARY"])
        self.create_temp(conn, table, keys if all(k in table.c for k in keys) else [])
        names = ", ".join(prep.quote(c.name) for c in columns)
        fill = f"INSERT INTO {prep.quote(name)} ({names}) SELECT * FROM ({query}) AS _q"
        conn.execute(sa.text(fill).bindparams(**params))
        rows = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        return Staged(table=table, columns=columns, rows=rows)

    def staged_column(self, column: Column) -> Column:
        """A column of a query's result, as the Arrow path would stage it (binary collation, DATETIME(6))."""
        if column.family in (STRING, TIMESTAMP, TIMESTAMPTZ, TIME):
            return Column(column.name, self.column_for_arrow(column.name, _ARROW[column.family]).type, column.family)
        return column

    def drop_temp_sql(self) -> str:
        return "DROP TEMPORARY TABLE IF EXISTS"


def _is_bool(t: Any) -> bool:
    return isinstance(t, mysql.TINYINT) and getattr(t, "display_width", None) == 1 or sa_family(t) == BOOLEAN
