"""The portable staging path: the batch's Arrow stream into a temporary table of the target, in the
load's transaction. Adapters override it with their engine's fast path (COPY, registered Arrow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from loaders.errors import DataContractError
from loaders.lazy import lazy
from loaders.targets.columns import TIMESTAMP, TIMESTAMPTZ, Column
from loaders.targets.connections import Connections
from loaders.targets.types import arrow_family, arrow_to_sa

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")


@dataclass
class Staged:
    """A batch staged in the target: the table strategies read from, its columns and row count."""

    table: sa.Table
    columns: list[Column]
    rows: int
    #: what must stay alive while the stage is read (an Arrow table registered zero-copy)
    keepalive: Any = None


class Staging(Connections):
    """Staging and temporary tables, on top of the connections."""

    #: the engine has a zoned timestamp type; if not, zoned timestamps are stored as naive UTC
    stores_time_zones: ClassVar[bool] = True
    #: the largest integer the engine stores exactly (unsigned 64-bit values above it are refused)
    max_integer: ClassVar[int | None] = None

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        if not self.stores_time_zones and arrow_family(t) == TIMESTAMPTZ:
            return Column(name, sa.DateTime(), TIMESTAMP)
        return Column(name, arrow_to_sa(t), arrow_family(t))

    # ------------------------------------------------------------------ staging
    #: rows per executemany call of the portable staging path
    stage_chunk_rows: ClassVar[int] = 10_000

    def stage(self, conn: sa.Connection, reader: pa.RecordBatchReader, name: str, keys: Sequence[str] = ()) -> Staged:
        """Copy the batch stream into a temporary table named ``name`` inside ``conn``'s transaction.

        The portable path: CREATE TEMPORARY TABLE from the Arrow schema, then executemany in chunks
        (the drivers batch these into multi-row statements). Adapters override with COPY and the like.
        """
        columns = [self.column_for_arrow(f.name, f.type) for f in reader.schema]
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), prefixes=["TEMPORARY"])
        self.create_temp(conn, table, keys)
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
        import pyarrow.compute as pc  # here, not at import: a load that stages no Arrow never needs it

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

    def materialize_stage(self, conn: sa.Connection, staged: Staged) -> Staged:
        """The stage as a table of the engine's own, before a statement that reads it heavily (a window
        over every row); a stage already is one, except on DuckDB (see there)."""
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

    #: the engine probes a joined table row by row unless it is indexed (nested loops): the stage and
    #: the batch get an index on the mart's keys, so keyed loads cost the batch, not batch x table
    indexes_stage: ClassVar[bool] = False

    def create_temp(self, conn: sa.Connection, table: sa.Table, keys: Sequence[str]) -> None:
        """CREATE TEMPORARY TABLE, with an index on ``keys`` where the engine needs one."""
        conn.execute(sa.schema.CreateTable(table))
        if keys and self.indexes_stage:
            sa.Index(f"ix_{table.name}", *(table.c[k] for k in keys)).create(conn)

    def create_temp_as(
        self, conn: sa.Connection, name: str, select: sa.Select[Any], keys: Sequence[str] = ()
    ) -> sa.Table:
        """Materialise a derived batch (deduplicated, last event per key) as a temp table."""
        create = sa.CreateTableAs(select, name, temporary=True)
        conn.execute(create)
        if keys and self.indexes_stage:
            sa.Index(f"ix_{name}", *(create.table.c[k] for k in keys)).create(conn)
        return create.table
