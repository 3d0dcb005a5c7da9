"""The target table of a load: create it, or check that the batch fits it and evolve it.

Where the engine cannot roll DDL back (MariaDB, the generic path), :class:`DdlUndo` remembers what
this load created or added, so a failed load can drop it again and leave the target as it was.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders.errors import DataContractError, SchemaChangeError
from loaders.lazy import lazy
from loaders.targets.columns import Column, TableRef, fits
from loaders.targets.types import arrow_type

if TYPE_CHECKING:
    import pyarrow as pa

    from loaders.strategies import Strategy
    from loaders.targets import Staged, Target
else:
    pa = lazy("pyarrow")


@dataclass
class DdlUndo:
    """DDL a load did that commits on its own, undone if the load fails."""

    target: Target
    ref: TableRef
    created: bool = False
    added: list[str] = field(default_factory=list)

    def undo(self, conn: sa.Connection, mart: str) -> None:
        if self.target.ddl_is_transactional or not (self.created or self.added):
            return
        with contextlib.suppress(Exception), self.target.translate_errors(mart):
            if conn.in_transaction():
                conn.rollback()
            if self.created:
                self.target.drop_table(conn, self.ref)
            else:
                self.target.drop_columns(conn, self.ref, self.added)
            conn.commit()


@dataclass(frozen=True)
class TargetTable:
    """The table as the strategy sees it after preparation."""

    table: sa.Table
    #: every column the table has, by name
    columns: dict[str, Column]
    #: the source columns that land in it
    landing: list[str]


def typed_nulls(conn: sa.Connection, target: Target, ref: TableRef, reader: pa.RecordBatchReader) -> Any:
    """A column that is all NULL in this batch (Arrow type ``null``, common from JSON, CSV and Python
    rows) takes the type of the existing target column, so it stages as that type."""
    nulls = [f.name for f in reader.schema if pa.types.is_null(f.type)]
    existing = {c.name: c for c in target.describe_table(conn, ref) or []} if nulls else {}
    types = {n: arrow_type(existing[n]) for n in nulls if n in existing}
    if not types:
        return reader
    schema = pa.schema([pa.field(f.name, types.get(f.name, f.type)) for f in reader.schema])
    batches = (
        pa.RecordBatch.from_arrays([c.cast(schema.field(i).type) for i, c in enumerate(b.columns)], schema=schema)
        for b in reader
    )
    return pa.RecordBatchReader.from_batches(schema, batches)


def prepare(conn: sa.Connection, strategy: Strategy[Any], staged: Staged, undo: DdlUndo, mart: str) -> TargetTable:
    """Create the table for a first load; otherwise check the batch fits it and add new columns if allowed."""
    target, ref, spec = undo.target, undo.ref, strategy.spec
    source = {c.name: c for c in staged.columns}
    landing = strategy.landing_columns(list(source))
    managed = strategy.managed_columns(source)
    clash = [m.name for m in managed if m.name in landing]
    if clash:
        raise DataContractError(
            f"source column {clash[0]!r} has the name of a column {spec.strategy} manages; "
            "rename it in the source or choose another name in the spec",
            mart=mart,
        )
    existing = target.describe_table(conn, ref)
    if existing is None:
        wanted = [source[c] for c in landing] + managed
        target.create_table(conn, ref, wanted, keys=spec.keys, unique=strategy.unique_keys)
        undo.created = True
        have = {c.name: c for c in wanted}
    else:
        have = {c.name: c for c in existing}
        new = _check_schema(strategy, target, ref, source, landing, managed, have, mart)
        if new:
            target.add_columns(conn, ref, [source[c] for c in new])
            undo.added = new
            have = {c.name: c for c in target.describe_table(conn, ref) or existing}
    return TargetTable(target.sa_table(ref, list(have.values())), have, landing)


def _check_schema(
    strategy: Strategy[Any],
    target: Target,
    ref: TableRef,
    source: dict[str, Column],
    landing: list[str],
    managed: list[Column],
    have: dict[str, Column],
    mart: str,
) -> list[str]:
    """Fail on columns that do not fit; return the new columns, if the spec allows adding them."""
    spec, dialect = strategy.spec, target.dialect
    lacking = [m.name for m in managed if m.name not in have]
    if lacking:
        raise SchemaChangeError(
            f"table {ref} exists but has no column {lacking[0]!r}, which {spec.strategy} "
            "needs; was it created by another strategy?",
            mart=mart,
        )
    for name in landing:
        if name in have and not fits(source[name].family, have[name].family):
            raise SchemaChangeError(
                f"column {name!r}: source type {source[name].type.compile(dialect)} ({source[name].family}) "
                f"cannot go into target column of type {have[name].type.compile(dialect)} ({have[name].family})",
                mart=mart,
            )
    new = [c for c in landing if c not in have]
    if new and spec.schema_change == "fail":
        raise SchemaChangeError(
            f"source has new columns {', '.join(map(repr, new))} that table {ref} lacks; "
            "set `schema_change: add_columns` to add them",
            mart=mart,
        )
    return new
