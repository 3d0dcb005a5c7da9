"""PostgreSQL: COPY (CSV written by Arrow's C++ writer) into a temp table, MERGE on 15+, advisory locks."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from loaders.errors import TargetError, TargetLocked, TransientTargetError
from loaders.targets.base import Staged, Target
from loaders.targets.columns import BINARY, INTERVAL, NESTED, Column, digest
from loaders.targets.connections import lock_names
from loaders.targets.sql import on_conflict

_NOT_CSV = {BINARY, NESTED, INTERVAL}  # families Arrow's CSV writer cannot round-trip

#: SQLSTATEs a retry can fix: connection exceptions (class 08), transaction rollbacks such as a
#: serialization failure or deadlock (40), insufficient resources (53), the server shutting down or
#: restarting (57P01-57P03); 55P03 (lock_not_available) means another session holds a lock
TRANSIENT_CLASSES = ("08", "40", "53")
TRANSIENT_CODES = {"57P01", "57P02", "57P03"}
LOCKED_CODES = {"55P03"}

#: a unique index ON CONFLICT (keys) can use: valid, not deferrable, not partial, no expressions,
#: exactly the keys as its columns (a primary key or unique constraint has such an index too)
UNIQUE_ON = sa.text(
    """SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_index i
  WHERE i.indrelid = to_regclass(:table) AND i.indisunique AND i.indisvalid AND i.indimmediate
    AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = :n
    AND ARRAY(
      SELECT a.attname::text FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    ) @> CAST(:keys AS text[]))"""
)


def lock_key(scope: str, name: str) -> int:
    """A stable signed 64-bit advisory-lock key per database, schema and lock name (hashtext() is not stable)."""
    return int.from_bytes(digest(f"loaders:{scope}:{name}")[:8], "big", signed=True)


class PostgresTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ("postgresql",)
    supports_upsert: ClassVar[bool] = True
    upsert_names_keys: ClassVar[bool] = True
    stages_queries_in_place: ClassVar[bool] = True

    #: the planner's cost of a random page read for this adapter's sessions, where nobody has tuned it
    #: (the server default, 4, assumes spinning disks): with it a 200k-row keyed load into a 10M-row
    #: table hashed all 10M rows (spilling to temp files) instead of probing the key index, and cost
    #: the table, not the batch (scd2: 20 s at 10M rows against 2.8 s at 1M)
    random_page_cost: ClassVar[float] = 1.1

    def create_engine(self, url: str) -> sa.Engine:
        engine = sa.create_engine(url, pool_pre_ping=True)
        sa.event.listen(engine, "connect", self._tune_session)
        return engine

    def _tune_session(self, dbapi_conn: Any, record: Any) -> None:
        """SSD costs for this session only, unless a DBA has set ``random_page_cost`` (server, role,
        database or the URL's ``options``): then theirs stands."""
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("select current_setting('random_page_cost')::float8 = 4")
            if cursor.fetchone()[0]:
                cursor.execute(f"set random_page_cost = {self.random_page_cost}")
        finally:
            cursor.close()
        dbapi_conn.commit()

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with super().connect() as conn:
            # MERGE exists from PostgreSQL 15 on; older servers use the portable methods.
            self.supports_merge = (conn.dialect.server_version_info or (0,)) >= (15,)  # type: ignore[misc]
            yield conn

    @contextlib.contextmanager
    def lock(self, conn: sa.Connection, mart: str, table: str | None = None) -> Iterator[None]:
        """Session advisory locks per database, schema and mart (and table): a second run fails fast."""
        with self.translate_errors(mart):
            scope = conn.execute(sa.text("select current_database() || '.' || current_schema()")).scalar()
        keys = [{"k": lock_key(str(scope), name)} for name, _ in lock_names(mart, table)]
        acquire, release = "select pg_try_advisory_lock(:k)", "select pg_advisory_unlock(:k)"
        with self.server_lock(conn, mart, acquire, release, keys, "PostgreSQL advisory lock", table):
            yield

    def is_nan(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool] | None:
        if isinstance(column.type, (sa.Float, sa.Numeric)) and not isinstance(column.type, sa.Integer):
            return column == sa.cast(sa.literal("NaN"), column.type)  # PostgreSQL: NaN equals NaN
        return None

    def described_stage(self, conn: sa.Connection, name: str, keys: Sequence[str]) -> Staged:
        conn.exec_driver_sql(f"ANALYZE {self.dialect.identifier_preparer.quote(name)}")  # as for a COPY stage
        return super().described_stage(conn, name, keys)

    def classify(self, error: BaseException) -> type[TargetError]:
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)  # psycopg 3 / psycopg2
        if code in LOCKED_CODES:
            return TargetLocked
        if code and (code.startswith(TRANSIENT_CLASSES) or code in TRANSIENT_CODES):
            return TransientTargetError
        if code is None and isinstance(error, self.dialect.loaded_dbapi.OperationalError):
            return TransientTargetError  # no SQLSTATE: the client lost or never got its connection
        return TargetError

    def unique_on(self, conn: sa.Connection, table: sa.Table, keys: list[str]) -> bool:
        """One catalog query: SQLAlchemy's inspector takes three, and 60 ms on its first use in a process."""
        name = self.dialect.identifier_preparer.format_table(table)
        return bool(conn.execute(UNIQUE_ON, {"table": name, "n": len(keys), "keys": list(keys)}).scalar())

    def upsert(
        self, table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
    ) -> sa.Executable:
        return on_conflict(pg.insert(table).from_select(columns, rows), table, keys, values)

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        col = super().column_for_arrow(name, t)
        if col.family == NESTED:
            return Column(name, pg.JSONB(), NESTED)
        return col

    def stage(self, conn: sa.Connection, reader: pa.RecordBatchReader, name: str, keys: Sequence[str] = ()) -> Staged:
        columns = [self.column_for_arrow(f.name, f.type) for f in reader.schema]
        if any(c.family in _NOT_CSV for c in columns):
            return super().stage(conn, reader, name, keys)
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
