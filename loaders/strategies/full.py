"""Full reload: replace every row. Delete and insert in one transaction, so a reader sees the old
table until the commit and the new one after it, never an empty or half-written table."""

from __future__ import annotations

import sqlalchemy as sa

from loaders.marts import FullSpec
from loaders.result import Counts
from loaders.strategies.base import LoadContext, Strategy


class FullReload(Strategy[FullSpec]):
    name = "full"
    spec_model = FullSpec

    def removes_what_the_batch_lacks(self) -> bool:
        return True

    def load(self, ctx: LoadContext[FullSpec]) -> Counts:
        deleted = ctx.execute(sa.delete(ctx.table))
        inserted = ctx.execute(
            sa.insert(ctx.table).from_select(ctx.columns, sa.select(*(ctx.batch.c[c] for c in ctx.columns)))
        )
        return Counts(inserted=inserted, deleted=deleted)
