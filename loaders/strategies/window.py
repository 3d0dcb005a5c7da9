"""Time-window overwrite (dbt's insert_overwrite, SQLMesh's incremental by time range).

The batch holds complete data for every window (day or month of ``partition_by``) it touches: the
target rows of exactly those windows are deleted and the batch inserted, in one transaction. Late
data for an old day replaces that day only; windows the batch does not touch are left alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from loaders.errors import DataContractError
from loaders.marts import OverwriteWindowSpec
from loaders.result import Counts
from loaders.strategies.base import LoadContext, Strategy


class OverwriteWindow(Strategy[OverwriteWindowSpec]):
    name = "overwrite_window"
    spec_model = OverwriteWindowSpec

    def required_columns(self) -> list[str]:
        return [*super().required_columns(), self.spec.partition_by]

    def window_column(self) -> str:
        return self.spec.partition_by

    def window(self, ctx: LoadContext[OverwriteWindowSpec], table: sa.Table) -> sa.ColumnElement[object]:
        column = table.c[ctx.spec.partition_by]
        family = ctx.table_columns[ctx.spec.partition_by].family
        return ctx.target.window_start(column, ctx.spec.grain, family)

    def validate(self, ctx: LoadContext[OverwriteWindowSpec]) -> None:
        column = ctx.batch.c[ctx.spec.partition_by]
        nulls = ctx.scalar(sa.select(sa.func.count()).select_from(ctx.batch).where(column.is_(None)))
        if nulls:
            raise DataContractError(
                f"partition_by column {ctx.spec.partition_by!r} has {nulls} NULLs in this batch; "
                "every row must belong to a window",
                mart=ctx.mart,
            )

    def load(self, ctx: LoadContext[OverwriteWindowSpec]) -> Counts:
        touched = sa.select(self.window(ctx, ctx.batch)).distinct()
        deleted = ctx.execute(sa.delete(ctx.table).where(self.window(ctx, ctx.table).in_(touched)))
        inserted = ctx.execute(
            sa.insert(ctx.table).from_select(ctx.columns, sa.select(*(ctx.batch.c[c] for c in ctx.columns)))
        )
        return Counts(inserted=inserted, deleted=deleted)
