"""The target-adapter interface: everything that differs between engines, and nothing else.

Strategies build SQLAlchemy Core statements against :class:`sqlalchemy.Table` objects and ask the
adapter only *how*: stage Arrow fast, describe/create tables, which merge method is fastest, how to
lock a mart, which driver errors a retry can fix. A new engine is a new subclass, not edits elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from loaders.errors import DataContractError, LoaderError, TargetError, TargetLocked, TransientTargetError, first_line
from loaders.targets.columns import (
    DATE,
    TIMESTAMP,
    TIMESTAMPTZ,
    Column,
    TableRef,
    digest,
    introspecting,
    sa_family,
)
from loaders.targets.sql import MergeInto
from loaders.targets.types import arrow_family, arrow_to_sa
from loaders.urls import redact

log = logging.getLogger("loaders")

#: (target URL, mart) -> the lock threads of this process take to load that mart
_PROCESS_LOCKS: dict[tuple[str, str], threading.Lock] = {}


@dataclass
class Staged:
    """A batch staged in the target: the table strategies read from, its columns and row count."""

    table: sa.Table
    columns: list[Column]
    rows: int
    #: what must stay alive while the stage is read (an Arrow table registered zero-copy)
    keepalive: Any = None


class Target:
    """One engine family. Subclasses set the capability flags and override what their engine does
    differently; everything here is the portable SQLAlchemy path."""

    #: registry key: the SQLAlchemy backend name(s) this adapter serves
    backends: ClassVar[tuple[str, ...]] = ()
    #: CREATE/ALTER can run inside the load's transaction and roll back with it
    ddl_is_transactional: ClassVar[bool] = True
    #: the engine runs MERGE INTO ... WHEN MATCHED / NOT MATCHED
    supports_merge: ClassVar[bool] = False
    #: the merge method `method: auto` picks on this engine
    default_merge_method: ClassVar[str] = "update_insert"
    #: the dialect has INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE (``method: upsert``)
    supports_upsert: ClassVar[bool] = False
    #: tables created for keyed marts get an index on the keys (engines that join by index need it)
    indexes_keys: ClassVar[bool] = True
    #: the engine has a zoned timestamp type; if not, zoned timestamps are stored as naive UTC
    stores_time_zones: ClassVar[bool] = True
    #: how long a thread waits for another thread of this process loading the same mart
    thread_lock_seconds: ClassVar[float] = 300.0
    #: the largest integer the engine stores exactly (unsigned 64-bit values above it are refused)
    max_integer: ClassVar[int | None] = None

    #: one writer at a time holds the whole database (a file): a run waits for it, up to lock_timeout
    waits_for_writer: ClassVar[bool] = False

    def __init__(self, url: str, lock_timeout: float = 300.0) -> None:
        self.url = url
        #: seconds a run waits for another writer of a single-writer file (``?loaders_lock_timeout=``)
        self.lock_timeout = lock_timeout
        self.engine = self.create_engine(url)
        #: things verified once per process (state tables exist), so later loads skip the queries
        self.checked: set[tuple[str, str | None]] = set()

    def create_engine(self, url: str) -> sa.Engine:
        return sa.create_engine(url)

    @property
    def dialect(self) -> sa.Dialect:
        return self.engine.dialect

    def describe(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ connections and errors
    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with self.translate_errors(), self._connect_waiting() as conn:
            yield conn

    def _connect_waiting(self) -> sa.Connection:
        """A connection; on a single-writer file held by another process, wait for it (logged), so
        tasks that run at once (Airflow's default parallelism) queue instead of failing."""
        deadline, told = time.monotonic() + self.lock_timeout, 0.0
        while True:
            try:
                return self.engine.connect()
            except sa.exc.DBAPIError as e:
                waiting = self.waits_for_writer and self.classify(e.orig or e) is TargetLocked
                if not waiting or time.monotonic() >= deadline:
                    raise
                if time.monotonic() - told >= 10:
                    log.info("%s is held by another writer; waiting up to %.0f s", self.describe(), self.lock_timeout)
                    told = time.monotonic()
                time.sleep(0.25)

    @contextlib.contextmanager
    def lock(self, conn: sa.Connection, mart: str) -> Iterator[None]:
        """Serialise runs of one mart. The default relies on the engine's own (file) locking between
        processes, and a lock per database and mart between threads of this process."""
        held = _PROCESS_LOCKS.setdefault((self.url, mart), threading.Lock())
        if not held.acquire(timeout=self.thread_lock_seconds):
            raise TargetLocked(f"another thread has been loading this mart for {self.thread_lock_seconds} s", mart=mart)
        try:
            yield
        finally:
            held.release()

    @contextlib.contextmanager
    def server_lock(
        self, conn: sa.Connection, mart: str, acquire: str, release: str, params: dict[str, Any], kind: str
    ) -> Iterator[None]:
        """Hold a named server-side lock for the whole run: ``acquire`` returns true or fails fast."""
        with self.translate_errors(mart):
            got = conn.execute(sa.text(acquire), params).scalar()
            conn.commit()
        if not got:
            raise TargetLocked(
                f"another run of this mart holds its lock ({kind}); retry when it has finished", mart=mart
            )
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                if conn.in_transaction():
                    conn.rollback()
                conn.execute(sa.text(release), params)
                conn.commit()

    def classify(self, error: BaseException) -> type[TargetError]:
        """What a driver error means, read from the driver's error code (SQLSTATE, errno, ...):
        :class:`TargetLocked`, :class:`TransientTargetError` (a retry may succeed) or
        :class:`TargetError` (terminal). The portable path knows no codes, so every error is terminal
        unless SQLAlchemy saw the connection drop."""
        return TargetError

    @contextlib.contextmanager
    def translate_errors(self, mart: str | None = None) -> Iterator[None]:
        """Driver errors become the package's error tree, one readable line, password-free."""
        try:
            yield
        except LoaderError:
            raise
        except sa.exc.DBAPIError as e:
            orig = e.orig if e.orig is not None else e
            kind = TransientTargetError if e.connection_invalidated else self.classify(orig)
            raise kind(f"{self.describe()}: {first_line(orig)}", mart=mart) from e
        except sa.exc.SQLAlchemyError as e:
            raise TargetError(f"{self.describe()}: {first_line(e)}", mart=mart) from e
        except Exception as e:  # a driver error raised by its raw API (COPY, register), not wrapped
            dbapi = getattr(self.dialect, "loaded_dbapi", None)
            if dbapi is None or not isinstance(e, dbapi.Error):
                raise
            raise self.classify(e)(f"{self.describe()}: {first_line(e)}", mart=mart) from e

    # ------------------------------------------------------------------ tables
    def sa_table(self, ref: TableRef, columns: list[Column]) -> sa.Table:
        return sa.Table(ref.name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), schema=ref.schema)

    def describe_table(self, conn: sa.Connection, ref: TableRef) -> list[Column] | None:
        """The table's columns in order, or None if it does not exist."""
        with introspecting(conn):
            insp = sa.inspect(conn)
            if not insp.has_table(ref.name, schema=ref.schema):
                return None
            found = insp.get_columns(ref.name, schema=ref.schema)
        return [Column(c["name"], c["type"], sa_family(c["type"])) for c in found]

    def ensure_schema(self, conn: sa.Connection, schema: str | None) -> None:
        if schema:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))

    def create_table(
        self,
        conn: sa.Connection,
        ref: TableRef,
        columns: list[Column],
        keys: list[str] | None = None,
        unique: bool = False,
    ) -> sa.Table:
        """Create the target table; on engines that join by index, index its key columns (a unique
        index where every key has one row, which also lets ``method: upsert`` work)."""
        self.ensure_schema(conn, ref.schema)
        if keys and self.indexes_keys:
            columns = [self.key_column(c) if c.name in keys else c for c in columns]
        table = self.sa_table(ref, columns)
        conn.execute(sa.schema.CreateTable(table))
        if keys and self.indexes_keys:
            sa.Index(f"ix_loaders_{digest(str(ref)).hex()[:10]}", *(table.c[k] for k in keys), unique=unique).create(
                conn
            )
        return table

    def key_column(self, column: Column) -> Column:
        """The type a key column gets so it can be indexed (MariaDB cannot index LONGTEXT)."""
        return column

    def add_columns(self, conn: sa.Connection, ref: TableRef, columns: list[Column]) -> None:
        prep = self.dialect.identifier_preparer
        table = prep.format_table(self.sa_table(ref, []))
        for col in columns:
            ddl = col.type.compile(dialect=self.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {prep.quote(col.name)} {ddl}")

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        if not self.stores_time_zones and arrow_family(t) == TIMESTAMPTZ:
            return Column(name, sa.DateTime(), TIMESTAMP)
        return Column(name, arrow_to_sa(t), arrow_family(t))

    # ------------------------------------------------------------------ staging
    #: rows per executemany call of the portable staging path
    stage_chunk_rows: ClassVar[int] = 10_000

    def stage(self, conn: sa.Connection, reader: pa.RecordBatchReader, name: str) -> Staged:
        """Copy the batch stream into a temporary table named ``name`` inside ``conn``'s transaction.

        The portable path: CREATE TEMPORARY TABLE from the Arrow schema, then executemany in chunks
        (the drivers batch these into multi-row statements). Adapters override with COPY and the like.
        """
        columns = [self.column_for_arrow(f.name, f.type) for f in reader.schema]
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), prefixes=["TEMPORARY"])
        conn.execute(sa.schema.CreateTable(table))
        rows = 0
        for batch in reader:
            for start in range(0, batch.num_rows, self.stage_chunk_rows):
                chunk = self.prepare_rows(batch.slice(start, self.stage_chunk_rows))
                self.insert_rows(conn, table, chunk)
                rows += chunk.num_rows
        return Staged(table=table, columns=columns, rows=rows)

    def prepare_rows(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Make a batch's values acceptable to the driver: zoned timestamps become naive UTC where the
        engine has no zoned type (the driver would send the offset and the engine drop it)."""
        if self.max_integer is not None:
            for f, a in zip(batch.schema, batch.columns, strict=True):
                if pa.types.is_unsigned_integer(f.type) and (pc.max(a).as_py() or 0) > self.max_integer:
                    raise DataContractError(
                        f"column {f.name!r} holds {pc.max(a).as_py()}, above the largest integer "
                        f"{self.dialect.name} stores exactly ({self.max_integer}); cast it to a string or decimal"
                    )
        if self.stores_time_zones:
            return batch
        arrays = [
            pc.cast(a, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz else a
            for f, a in zip(batch.schema, batch.columns, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def insert_rows(self, conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch) -> None:
        """executemany with values converted column by column (Arrow -> Python, then the dialect's bind
        processor), not row by row through SQLAlchemy: several times faster for the same rows."""
        if not batch.num_rows:
            return
        compiled = sa.insert(table).compile(dialect=self.dialect)
        columns: dict[str, list[Any]] = {}
        for name in batch.schema.names:
            values = batch.column(name).to_pylist()
            process = table.c[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
            columns[name] = [process(v) for v in values] if process else values
        order = [c.name for c in table.columns]  # an INSERT with no values binds every column, in order
        rows = zip(*(columns[c] for c in order), strict=True)
        if compiled.positional:
            params: Any = list(rows)
        else:  # named styles: the compiler may have escaped names with spaces or punctuation
            keys = [getattr(compiled, "escaped_bind_names", {}).get(c, c) for c in order]
            params = [dict(zip(keys, row, strict=True)) for row in rows]
        conn.exec_driver_sql(str(compiled), params)

    def remove_from_stage(self, conn: sa.Connection, staged: Staged, condition: sa.ColumnElement[bool]) -> Staged:
        """Drop the staged rows matching ``condition`` (below the watermark, outside a backfill window)."""
        conn.execute(sa.delete(staged.table).where(condition))
        return staged

    def drop_temp_sql(self) -> str:
        return "DROP TABLE IF EXISTS"

    def drop_temp(self, conn: sa.Connection, table: sa.Table) -> None:
        """Drop a staging table (on MariaDB only DROP TEMPORARY TABLE avoids an implicit commit)."""
        conn.exec_driver_sql(f"{self.drop_temp_sql()} {self.dialect.identifier_preparer.format_table(table)}")

    # ------------------------------------------------------------------ reading a query (a SQL source)
    def read_query(self, statement: sa.TextClause, batch_rows: int) -> pa.RecordBatchReader:
        """Stream a source query's rows as Arrow batches; the portable path goes through the driver."""
        from loaders.sources.sql import stream_rows

        return stream_rows(self.engine, statement, batch_rows)

    # ------------------------------------------------------------------ dialect SQL
    def timestamp_type(self) -> sa.types.TypeEngine[Any]:
        """A naive timestamp with microseconds (the run log orders runs within one second by it)."""
        return sa.DateTime()

    def merge(self, table: sa.Table, batch: sa.FromClause, keys: list[str], columns: list[str]) -> sa.Executable:
        """One MERGE INTO (only called where ``supports_merge``)."""
        return MergeInto(table, batch, keys, columns)

    def upsert(
        self, table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
    ) -> sa.Executable:
        """INSERT ... SELECT that updates the rows whose keys exist: the dialect's own upsert."""
        raise NotImplementedError

    def upsert_counts(self, rowcount: int, rows: int, new: int) -> tuple[int, int]:
        """(inserted, updated) from an upsert's row count, given the batch size and its new keys."""
        return new, rowcount - new

    def window_start(self, column: Any, grain: str, family: str) -> sa.ColumnElement[Any]:
        """The first day of the day/month a date or timestamp falls in (``overwrite_window``)."""
        day = column if family == DATE else sa.cast(column, sa.Date())
        if grain == "day":
            return day
        return sa.cast(sa.func.date_trunc("month", day), sa.Date())

    # ------------------------------------------------------------------ undoing DDL
    def drop_table(self, conn: sa.Connection, ref: TableRef) -> None:
        """Undo a CREATE TABLE of a failed load, on engines whose DDL is not transactional."""
        conn.execute(sa.schema.DropTable(self.sa_table(ref, []), if_exists=True))

    def drop_columns(self, conn: sa.Connection, ref: TableRef, names: list[str]) -> None:
        prep = self.dialect.identifier_preparer
        table = prep.format_table(self.sa_table(ref, []))
        for name in names:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {prep.quote(name)}")

    def create_temp_as(self, conn: sa.Connection, name: str, select: sa.Select[Any]) -> sa.Table:
        """Materialise a derived batch (deduplicated, last event per key) as a temp table."""
        create = sa.CreateTableAs(select, name, temporary=True)
        conn.execute(create)
        return create.table
