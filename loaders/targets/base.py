"""The target-adapter interface: everything that differs between engines, and nothing else.

Strategies build SQLAlchemy Core statements against :class:`sqlalchemy.Table` objects and ask the
adapter only *how*: stage Arrow fast, describe/create tables, which merge method is fastest, how to
lock a mart, which driver errors a retry can fix. A new engine is a new subclass, not edits elsewhere.
The adapter is built in three layers: ``connections.py`` (engine, locks, error codes), ``staging.py``
(the batch into a temporary table) and this module (tables, capabilities and dialect SQL).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import sqlalchemy as sa

from loaders.errors import DataContractError
from loaders.lazy import lazy
from loaders.targets.columns import DATE, Column, TableRef, digest, introspecting, sa_family
from loaders.targets.sql import MergeInto
from loaders.targets.staging import Staged, Staging

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")

__all__ = ["Staged", "Target"]


#: see ``Target.matched_delete``
MatchedDelete = Literal["exists", "join", "in"]


class Target(Staging):
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
    #: the upsert names the keys it conflicts on (ON CONFLICT (keys)), so without a unique index on
    #: them it fails rather than inserting a second row; MariaDB's ON DUPLICATE KEY takes whichever
    #: unique key a row collides with, so a strategy that picks the upsert itself does not use it there
    upsert_names_keys: ClassVar[bool] = False
    #: tables created for keyed marts get an index on the keys (engines that join by index need it)
    indexes_keys: ClassVar[bool] = True
    #: how a DELETE of the rows whose keys are in the batch is written: WHERE EXISTS (engines that plan
    #: a semi-join), a multi-table DELETE ("join": MariaDB ran the EXISTS once per target row, 0.30 s
    #: against 0.09 s for 10k deleted keys of a 200k feed) or WHERE (keys) IN (SELECT ...) ("in":
    #: SQLite then looks each key up in the table's index, 0.67 s against 0.26 s)
    matched_delete: ClassVar[MatchedDelete] = "exists"

    # ------------------------------------------------------------------ the write transaction
    # A load's DDL (stage, new table or columns, derived batches) comes before its first write to a
    # durable table (data, watermark, run log, batch claim); the runner calls begin_writes() just before
    # that first write and commit_writes() after the last. Engines whose transaction already holds
    # everything need nothing here; warehouses, where DDL commits or is refused inside a transaction,
    # open and close an explicit one (see ``targets/warehouse.py``).
    def begin_writes(self, conn: sa.Connection) -> None:
        """The load is about to write its first durable row."""

    def commit_writes(self, conn: sa.Connection) -> None:
        """The load's last durable write is done and nothing failed."""

    def end_writes(self, conn: sa.Connection) -> None:
        """The load's transaction is over (committed, failed or a plan rolled back)."""

    # ------------------------------------------------------------------ a query as the batch
    #: CREATE TEMPORARY TABLE ... AS keeps a query's types on this engine (DuckDB, PostgreSQL); the
    #: portable path cannot know that of an unknown engine, so it streams the rows instead. (SQLite and
    #: MariaDB override :meth:`stage_query`: their CTAS loses types or carries collations.)
    stages_queries_in_place: ClassVar[bool] = False

    def stage_query(
        self, conn: sa.Connection, query: str, params: dict[str, Any], name: str, keys: Sequence[str] = ()
    ) -> Staged:
        """The batch is a query on the target itself. Engine adapters stage it in place; the portable
        path reads it over the load's own connection and stages it as any batch. ``query`` is
        SQLAlchemy text (colons escaped), ``params`` its binds."""
        if self.stages_queries_in_place:
            quoted = self.dialect.identifier_preparer.quote(name)
            conn.execute(sa.text(f"CREATE TEMPORARY TABLE {quoted} AS {query}").bindparams(**params))
            return self.described_stage(conn, name, keys)
        from loaders.sources.sql import arrow_batches

        result = conn.execute(sa.text(query).bindparams(**params))
        names = list(result.keys())
        parts = [pa.Table.from_batches([b]) for b in arrow_batches(result, names)]  # whole: the stage reuses conn
        table = pa.concat_tables(parts, promote_options="permissive") if parts else None
        if table is None or not table.num_rows:
            table = pa.table({n: pa.array([], pa.null()) for n in names})
        return self.stage(conn, table.to_reader(), name, keys)

    def is_nan(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool] | None:
        """The condition that a float column holds NaN, where the engine can store one (None: it cannot)."""
        return None

    #: file formats the engine reads itself (see :meth:`read_files_sql`); others are read as Arrow
    reads_files_in_place: ClassVar[tuple[str, ...]] = ()

    def read_files_sql(self, files: list[str], fmt: str) -> str:
        """SQL (SQLAlchemy text) for a table of these files, in a format of ``reads_files_in_place``;
        the batch is then staged like a query on the target."""
        raise NotImplementedError

    def describe_files(self, conn: sa.Connection, files: list[str], fmt: str) -> list[Column]:
        """The columns of :meth:`read_files_sql`'s table as the engine types them, reading no row: the
        load stages the files in place only when every column has a type (no all-NULL column)."""
        raise NotImplementedError

    def described_stage(self, conn: sa.Connection, name: str, keys: Sequence[str]) -> Staged:
        """A temp table made by the engine, as a Staged batch: its columns as the engine typed them."""
        columns = self.describe_table(conn, TableRef(name))
        if not columns:
            raise DataContractError(f"the query's result (staged as {name}) has no columns")
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns))
        if keys and self.indexes_stage and all(k in table.c for k in keys):
            sa.Index(f"ix_{name}", *(table.c[k] for k in keys)).create(conn)
        rows = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        return Staged(table=table, columns=columns, rows=rows)

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

    def unique_on(self, conn: sa.Connection, table: sa.Table, keys: list[str]) -> bool:
        """The table has a primary key or a unique index (not partial) on exactly ``keys``: what an
        upsert's ON CONFLICT (keys) needs. A table loaders created for a keyed strategy has one; a
        table created by hand may not."""
        inspector, wanted = sa.inspect(conn), set(keys)
        with warnings.catch_warnings():  # "skipped unsupported reflection of expression-based index"
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            pk = inspector.get_pk_constraint(table.name, schema=table.schema)
            indexes = inspector.get_indexes(table.name, schema=table.schema)
            constraints = inspector.get_unique_constraints(table.name, schema=table.schema)
        if set(pk.get("constrained_columns") or ()) == wanted:
            return True
        for index in indexes:
            partial = any(k.endswith("_where") and v is not None for k, v in index.get("dialect_options", {}).items())
            if index.get("unique") and not partial and set(index.get("column_names") or ()) == wanted:
                return True
        return any(set(c.get("column_names") or ()) == wanted for c in constraints)

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
