"""PostgreSQL: COPY (CSV written by Arrow's C++ writer) into a temp table, MERGE on 15+, advisory locks."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from loaders.targets.base import BINARY, INTERVAL, NESTED, Column, Staged, Target

_NOT_CSV = {BINARY, NESTED, INTERVAL}  # families Arrow's CSV writer cannot round-trip


def on_conflict(stmt: Any, table: sa.Table, keys: list[str], values: list[str]) -> sa.Executable:
    """ON CONFLICT (keys) DO UPDATE only where a value differs (PostgreSQL and SQLite share it)."""
    if not values:
        return stmt.on_conflict_do_nothing(index_elements=keys)  # type: ignore[no-any-return]
    changed = sa.or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in values))
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=keys, set_={c: stmt.excluded[c] for c in values}, where=changed
    )


def lock_key(scope: str, mart: str) -> int:
    """A stable signed 64-bit advisory-lock key per database, schema and mart (hashtext() is not stable)."""
    return int.from_bytes(hashlib.sha1(f"loaders:{scope}:{mart}".encode()).digest()[:8], "big", signed=True)


class PostgresTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("postgresql",)
    supports_upsert: ClassVar[bool] = True

    def create_engine(self, url: str) -> sa.Engine:
        return sa.create_engine(url, pool_pre_ping=True)

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with super().connect() as conn:
            # MERGE exists from PostgreSQL 15 on; older servers use the portable methods.
            self.supports_merge = (conn.dialect.server_version_info or (0,)) >= (15,)  # type: ignore[misc]
            yield conn

    @contextlib.contextmanager
    def lock(self, conn: sa.Connection, mart: str) -> Iterator[None]:
        """A session advisory lock per database, schema and mart: a second run fails fast."""
        with self.translate_errors(mart):
            scope = conn.execute(sa.text("select current_database() || '.' || current_schema()")).scalar()
        key = {"k": lock_key(str(scope), mart)}
        with self.server_lock(
            conn,
            mart,
            "select pg_try_advisory_lock(:k)",
            "select pg_advisory_unlock(:k)",
            key,
            "PostgreSQL advisory lock",
        ):
            yield

    def is_lock_error(self, error: BaseException) -> bool:
        return bool(re.search(r"could not obtain lock|deadlock detected|could not serialize", str(error)))

    def upsert(
        self, table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
    ) -> sa.Executable:
        return on_conflict(pg.insert(table).from_select(columns, rows), table, keys, values)

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        col = super().column_for_arrow(name, t)
        if col.family == NESTED:
            return Column(name, pg.JSONB(), NESTED)
        return col

    def stage(self, conn: sa.Connection, reader: pa.RecordBatchReader, name: str) -> Staged:
        columns = [self.column_for_arrow(f.name, f.type) for f in reader.schema]
        if any(c.family in _NOT_CSV for c in columns):
            return super().stage(conn, reader, name)
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), prefixes=["TEMPORARY"])
        conn.execute(sa.schema.CreateTable(table))
        prep = self.dialect.identifier_preparer
        cols = ", ".join(prep.quote(c.name) for c in columns)
        raw: Any = conn.connection.driver_connection
        options = pcsv.WriteOptions(include_header=False, batch_size=65_536)
        rows = 0
        with raw.cursor() as cur, cur.copy(f"COPY {prep.quote(name)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            for batch in reader:
                buffer = io.BytesIO()
                pcsv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())
                rows += batch.num_rows
        # Autovacuum never analyzes temp tables; without statistics the joins below get poor plans.
        conn.exec_driver_sql(f"ANALYZE {prep.quote(name)}")
        return Staged(table=table, columns=columns, rows=rows)
