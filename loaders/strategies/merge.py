"""Upsert by key: update changed rows, insert new keys, and (for a full snapshot) delete absent keys.

Three methods give the same rows: ``update_insert`` (portable, exact counts), ``merge`` (one MERGE
statement where the engine has it) and ``delete_insert`` (rewrite every matched key; fastest when most
keys change, but it cannot tell updated from unchanged rows).
"""

from __future__ import annotations

import sqlalchemy as sa

from loaders.errors import UnsupportedByTarget
from loaders.marts import MergeSpec, SCD1Spec
from loaders.result import Counts
from loaders.strategies.base import LoadContext, Strategy, any_distinct, delete_matching, exists_in, keys_match


class Merge(Strategy[MergeSpec]):
    name = "merge"
    spec_model = MergeSpec
    unique_keys = True

    def removes_what_the_batch_lacks(self) -> bool:
        return self.spec.delete_missing

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
        """The source is a full snapshot: keys it no longer has are deleted."""
        return ctx.execute(sa.delete(ctx.table).where(~exists_in(ctx.batch, ctx.table, ctx.spec.keys)))

    def insert_new(self, ctx: LoadContext[MergeSpec]) -> int:
        new_rows = sa.select(*(ctx.batch.c[c] for c in ctx.columns)).where(
            ~exists_in(ctx.table, ctx.batch, ctx.spec.keys)
        )
        return ctx.execute(sa.insert(ctx.table).from_select(ctx.columns, new_rows))

    def update_insert(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        t, b, values = ctx.table, ctx.batch, ctx.values
        if values:
            counts.updated = ctx.execute(
                sa.update(t)
                .values({c: b.c[c] for c in values})
                .where(keys_match(t, b, ctx.spec.keys), any_distinct(t, b, values))
            )
        counts.inserted = self.insert_new(ctx)

    def delete_insert(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        counts.updated = ctx.execute(delete_matching(ctx, ctx.batch))
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
        total = ctx.execute(ctx.target.upsert(ctx.table, rows, ctx.columns, ctx.spec.keys, ctx.values))
        counts.inserted, counts.updated = ctx.target.upsert_counts(total, ctx.rows, new)

    def merge_statement(self, ctx: LoadContext[MergeSpec], counts: Counts) -> None:
        """One MERGE INTO; the new keys are counted first, since MERGE reports only a total."""
        counts.inserted = self.count_new(ctx)
        total = ctx.execute(ctx.target.merge(ctx.table, ctx.batch, ctx.spec.keys, ctx.columns))
        counts.updated = total - counts.inserted


class SCD1(Merge):
    """SCD type 1 is a merge by another name: current values overwrite old ones, no history kept."""

    name = "scd1"
    spec_model = SCD1Spec  # type: ignore[assignment]
