"""Incremental append: insert rows past the watermark.

With ``lookback`` the window reaches back behind the watermark to catch late rows, and rows whose
keys are already in the table are skipped, so a re-read never duplicates.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import field_validator, model_validator

from loaders.result import Counts
from loaders.spec import Interval, MartBase, parse_interval
from loaders.state import minus_lookback
from loaders.strategies.base import LoadContext, Strategy, exists_in


class AppendSpec(MartBase):
    """Insert new rows; with a cursor, only rows past the stored watermark."""

    strategy: Literal["append"] = "append"
    cursor: str | None = None
    #: re-read rows this far behind the watermark, skipping keys already loaded (needs keys)
    lookback: Interval | None = None
    #: insert-only dedupe: drop batch rows whose keys are already in the table (needs keys)
    skip_existing: bool = False

    @field_validator("lookback", mode="before")
    @classmethod
    def _parse_lookback(cls, value: Any) -> Any:
        return None if value is None else parse_interval(value)

    @model_validator(mode="after")
    def _check_lookback(self) -> AppendSpec:
        if self.lookback is not None and not self.cursor:
            raise ValueError("`lookback` needs `cursor` (it widens the cursor's window)")
        if self.lookback is not None and not self.keys:
            raise ValueError("`lookback` needs `keys` to skip rows that were already loaded")
        if self.skip_existing and not self.keys:
            raise ValueError("`skip_existing` needs `keys` (it drops rows whose keys are already loaded)")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.cursor


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
