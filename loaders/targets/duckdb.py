"""DuckDB, the embedded default: Arrow is registered zero-copy and copied once into a temp table."""

from __future__ import annotations

import contextlib
import re
from typing import Any, ClassVar

import duckdb_engine
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from loaders.targets.base import (
    BINARY,
    BOOLEAN,
    DATE,
    DECIMAL,
    FLOAT,
    INTEGER,
    INTERVAL,
    NESTED,
    NULL,
    OTHER,
    STRING,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    Column,
    RawType,
    Staged,
    TableRef,
    Target,
)

_FAMILIES = [
    (r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$", INTEGER),
    (r"^(FLOAT|DOUBLE|REAL)$", FLOAT),
    (r"^DECIMAL", DECIMAL),
    (r"^VARCHAR", STRING),
    (r"^BOOLEAN$", BOOLEAN),
    (r"^DATE$", DATE),
    (r"^TIMESTAMP WITH TIME ZONE$", TIMESTAMPTZ),
    (r"^TIMESTAMP(_S|_MS|_NS)?$", TIMESTAMP),
    (r"^TIME", TIME),
    (r"^INTERVAL$", INTERVAL),
    (r"^BLOB$", BINARY),
    (r"(\[\d*\]$|^STRUCT|^MAP|^UNION)", NESTED),
    (r'^"?NULL"?$', NULL),
]


def _finish_pending_result(cursor: Any) -> None:
    """SQLAlchemy closes a cursor after ``.first()``/``.scalar()``; duckdb-engine's close is a no-op,
    and DuckDB 2 then refuses ``register()`` on the connection until the unfinished result is done."""
    with contextlib.suppress(Exception):
        cursor._CursorWrapper__c.abort()


duckdb_engine.CursorWrapper.close = _finish_pending_result  # type: ignore[method-assign,assignment]


def duckdb_family(type_name: str) -> str:
    for pattern, family in _FAMILIES:
        if re.search(pattern, type_name.upper()):
            return family
    return OTHER


class DuckDBTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("duckdb",)
    supports_merge: ClassVar[bool] = True
    #: DuckDB joins by hash; an ART index would only slow the UPDATEs down
    indexes_keys: ClassVar[bool] = False
    default_merge_method: ClassVar[str] = "update_insert"

    def create_engine(self, url: str) -> sa.Engine:
        # No pool: a pooled connection would keep DuckDB's file lock after the load is done.
        return sa.create_engine(url, poolclass=NullPool)

    def is_lock_error(self, error: BaseException) -> bool:
        return bool(re.search(r"Could not set lock|Conflict on|lock on file", str(error)))

    def describe_table(self, conn: sa.Connection, ref: TableRef) -> list[Column] | None:
        rows = conn.execute(
            sa.text(
                "select column_name, data_type from duckdb_columns() "
                "where table_name = :name and schema_name = coalesce(:schema, current_schema()) "
                "and database_name = current_database() order by column_index"
            ),
            {"name": ref.name, "schema": ref.schema},
        ).fetchall()
        return [Column(n, RawType(t), duckdb_family(t)) for n, t in rows] or None

    def stage(self, conn: sa.Connection, reader: pa.RecordBatchReader, name: str) -> Staged:
        raw: Any = conn.connection.driver_connection
        view = f"{name}_arrow"
        raw.register(view, reader)
        try:
            quoted = self.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {quoted} AS SELECT * FROM {view}")
        finally:
            raw.unregister(view)
        described = conn.exec_driver_sql(f"DESCRIBE {quoted}").fetchall()
        columns = [Column(r[0], RawType(r[1]), duckdb_family(r[1])) for r in described]
        rows = conn.exec_driver_sql(f"SELECT count(*) FROM {quoted}").scalar_one()
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns))
        return Staged(table=table, columns=columns, rows=int(rows))

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        col = super().column_for_arrow(name, t)
        return Column(name, RawType(col.type.compile(dialect=self.dialect)), col.family)
