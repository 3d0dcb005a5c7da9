"""Incremental append: insert rows past the watermark.

With ``lookback`` the window reaches back behind the watermark to catch late rows, and rows whose
keys are already in the table are skipped, so a re-read never duplicates.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from loaders.marts import AppendSpec
from loaders.result import Counts
from loaders.state import minus_lookback
from loaders.strategies.base import LoadContext, Strategy, exists_in


class Append(Strategy[AppendSpec]):
    name = "append"
    spec_model = AppendSpec

    def lower_bound(self, watermark: Any) -> Any:
        """The watermark less the look-back: late rows behind it are read again (and skipped by key)."""
        return minus_lookback(watermark, self.spec.lookback, self.spec.cursor)

    def load(self, ctx: LoadContext[AppendSpec]) -> Counts:
        incoming = sa.select(*(ctx.batch.c[c] for c in ctx.columns))
        deleted = 0
        if ctx.spec.keys and (ctx.spec.lookback is not None or ctx.spec.skip_existing or ctx.window):
            incoming = incoming.where(~exists_in(ctx.table, ctx.batch, ctx.spec.keys))
        elif ctx.window and ctx.spec.cursor:  # a keyless backfill replaces the window, so reruns don't duplicate
            cursor = ctx.table.c[ctx.spec.cursor]
            start, end = ctx.window
            deleted = ctx.execute(
                sa.delete(ctx.table).where(
                    cursor >= sa.literal(start, cursor.type), cursor < sa.literal(end, cursor.type)
                )
            )
        inserted = ctx.execute(sa.insert(ctx.table).from_select(ctx.columns, incoming))
        return Counts(inserted=inserted, deleted=deleted, unchanged=max(ctx.rows - inserted, 0))
