"""Upsert by key: update changed rows, insert new keys, and (for a full snapshot) delete absent keys.

Three methods give the same rows: ``update_insert`` (portable, exact counts), ``merge`` (one MERGE
statement where the engine has it) and ``delete_insert`` (rewrite every matched key; fastest when most
keys change, but it cannot tell updated from unchanged rows).
"""

from __future__ import annotations

import sqlalchemy as sa

from loaders.errors import UnsupportedByTarget
from loaders.result import Counts
from loaders.spec import MergeSpec, SCD1Spec
from loaders.strategies.base import LoadContext, Strategy, any_distinct, exists_in, keys_match


class Merge(Strategy[MergeSpec]):
    name = "merge"
    spec_model = MergeSpec
    unique_keys = True

    def method(self, ctx: LoadContext[MergeSpec]) -> str:
        method = ctx.spec.method if ctx.spec.method != "auto" else ctx.target.default_merge_method
        if method == "merge" and not ctx.target.supports_merge:
            raise UnsupportedByTarget(
                f"`method: merge` needs MERGE INTO, which {ctx.target.dialect.name} lacks; "
                "use `method: auto`, `update_insert` or `delete_insert`",
                mart=ctx.mart,
            )
        if method == "upsert" and not ctx.target.supports_upsert:
            raise UnsupportedByTarget(
                f"`method: upsert` (INSERT ... ON CONFLICT / ON DUPLICATE KEY) is not available on "
                f"{ctx.target.dialect.name}; use `method: auto`, `update_insert` or `delete_insert`",
                mart=ctx.mart,
            )
        return method

    def load(self, ctx: LoadContext[MergeSpec]) -> Counts:
        method = self.method(ctx)
        counts = Counts()
        if ctx.spec.delete_missing:
            counts.deleted = self.delete_missing(ctx)
        if method == "delete_insert":
            self.delete_insert(ctx, counts)
        elif method == "merge":
            self.merge_statement(ctx, counts)
        elif method == "upsert":
            self.upsert(ctx, counts)
        else:
            self.update_insert(ctx, counts)
        counts.unchanged = ctx.rows - counts.inserted - counts.updated
        return counts

    def delete_missing(self, ctx: LoadContext[MergeSpec]) -> int:
        return ctx.execute(sa.delete(ctx.table).where(~exists_in(ctx.batch, ctx.table, ctx.spec.keys)))

    def values(self, ctx: LoadContext[MergeSpec]) -> list[str]:
        return [c for c in ctx.columns if c not in ctx.spec.keys]

    def insert_new(self, ctx: LoadContext[MergeSpec]) -> int:
        new_rows = sa.select(*(ctx.batch.c[c] for c in ctx.columns)).where(
            ~exists_in(ctx.table, ctx.batch, ctx.spec.keys)
        )
        return ctx.execute(sa.insert(ctx.table).from_select(ctx.columns, new_rows))

    def update_insert(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        t, b, values = ctx.table, ctx.batch, self.values(ctx)
        if values:
            counts.updated = ctx.execute(
                sa.update(t)
                .values({c: b.c[c] for c in values})
                .where(keys_match(t, b, ctx.spec.keys), any_distinct(t, b, values))
            )
        counts.inserted = self.insert_new(ctx)

    def delete_insert(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        counts.updated = ctx.execute(sa.delete(ctx.table).where(exists_in(ctx.batch, ctx.table, ctx.spec.keys)))
        inserted = ctx.execute(
            sa.insert(ctx.table).from_select(ctx.columns, sa.select(*(ctx.batch.c[c] for c in ctx.columns)))
        )
        counts.inserted = inserted - counts.updated

    def count_new(self, ctx: LoadContext[MergeSpec]) -> int:
        """Keys of the batch not yet in the table: MERGE and upserts report only a total."""
        new = sa.select(sa.func.count()).select_from(ctx.batch).where(~exists_in(ctx.table, ctx.batch, ctx.spec.keys))
        return int(ctx.scalar(new) or 0)

    def upsert(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        """One INSERT ... ON CONFLICT DO UPDATE (ON DUPLICATE KEY UPDATE on MariaDB)."""
        new = self.count_new(ctx)
        rows = sa.select(*(ctx.batch.c[c] for c in ctx.columns))
        total = ctx.execute(ctx.target.upsert(ctx.table, rows, ctx.columns, ctx.spec.keys, self.values(ctx)))
        counts.inserted, counts.updated = ctx.target.upsert_counts(total, ctx.rows, new)

    def merge_statement(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        """One MERGE INTO; the new keys are counted first, since MERGE reports only a total."""
        counts.inserted = self.count_new(ctx)
        total = ctx.execute(sa.text(merge_sql(ctx, self.values(ctx))))
        counts.updated = total - counts.inserted


def merge_sql(ctx: LoadContext[MergeSpec], values: list[str]) -> str:
    """The MERGE template; identifiers are quoted by the dialect and no values are inlined."""
    d = ctx.target.dialect
    q = d.identifier_preparer.quote
    t, s = ctx.table.alias("t"), ctx.batch.alias("s")

    def sql(expr: sa.ColumnElement[bool]) -> str:
        return str(expr.compile(dialect=d))

    target = d.identifier_preparer.format_table(ctx.table)
    batch = d.identifier_preparer.format_table(ctx.batch)
    lines = [f"MERGE INTO {target} AS t USING {batch} AS s ON {sql(keys_match(t, s, ctx.spec.keys))}"]
    if values:
        sets = ", ".join(f"{q(c)} = s.{q(c)}" for c in values)
        lines.append(f"WHEN MATCHED AND ({sql(any_distinct(t, s, values))}) THEN UPDATE SET {sets}")
    cols = ", ".join(q(c) for c in ctx.columns)
    lines.append(f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({', '.join('s.' + q(c) for c in ctx.columns)})")
    return "\n".join(lines)


class SCD1(Merge):
    """SCD type 1 is a merge by another name: current values overwrite old ones, no history kept."""

    name = "scd1"
    spec_model = SCD1Spec  # type: ignore[assignment]
