"""SCD2: keep every version of a key, with valid_from / valid_to / is_current.

The algorithm, one statement each: check ordering, close changed versions, close deleted keys,
update untracked columns in place, open new versions. A version's ``valid_from`` is its row's
``effective_from`` (or the load time); closing sets ``valid_to`` to the next version's ``valid_from``,
so versions of one key never overlap. Choices where the contract is silent:

- ``effective_from`` is not tracked by default: a new timestamp with the same attributes opens nothing.
- Untracked columns of the current version are overwritten in place (``untracked: update``).
- A changed row whose ``effective_from`` is not after its current version's ``valid_from`` is an
  out-of-order change and fails the load (it would make versions overlap).
- A deleted key is closed at the load time; a key that comes back opens at
  ``max(effective_from, the time it was closed)``, again so that versions never overlap.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from pydantic import model_validator

from loaders.errors import DataContractError
from loaders.result import Counts
from loaders.spec import MartBase
from loaders.strategies.base import (
    LoadContext,
    Strategy,
    any_distinct,
    exists_in,
    keys_match,
    time_value,
)
from loaders.targets.columns import BOOLEAN, TIMESTAMP, Column


class SCD2Spec(MartBase):
    """Keep history: one row per version with valid_from / valid_to / is_current."""

    strategy: Literal["scd2"] = "scd2"
    #: columns whose change opens a new version (default: every non-key column)
    track: list[str] | None = None
    #: source column giving each change's time (default: the load time)
    effective_from: str | None = None
    #: close: the source is a full snapshot and absent keys get their current version closed
    deletes: Literal["ignore", "close"] = "ignore"
    #: update: untracked columns of the current version are overwritten in place; ignore: kept
    untracked: Literal["update", "ignore"] = "update"
    valid_from_column: str = "valid_from"
    valid_to_column: str = "valid_to"
    is_current_column: str = "is_current"
    cursor: str | None = None
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check(self) -> SCD2Spec:
        managed = [self.valid_from_column, self.valid_to_column, self.is_current_column]
        if len(set(managed)) != 3:
            raise ValueError(f"valid_from/valid_to/is_current column names must differ: {managed}")
        overlap = set(managed) & set(self.keys + (self.track or []))
        if overlap:
            raise ValueError(f"keys/track name history columns {sorted(overlap)}")
        if self.track is not None and set(self.track) & set(self.keys):
            raise ValueError("`track` lists key columns; keys identify a row, they are not tracked")
        if self.deletes == "close" and self.cursor:
            raise ValueError("`deletes: close` needs a full snapshot; it cannot go with `cursor`")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.cursor


class SCD2(Strategy[SCD2Spec]):
    name = "scd2"
    spec_model = SCD2Spec

    def required_columns(self) -> list[str]:
        s = self.spec
        return super().required_columns() + (s.track or []) + ([s.effective_from] if s.effective_from else [])

    def managed_columns(self, source: dict[str, Column]) -> list[Column]:
        s = self.spec
        if s.effective_from:
            eff = source[s.effective_from]
            vtype, family = eff.type, eff.family
        else:
            vtype, family = sa.DateTime(), TIMESTAMP
        return [
            Column(s.valid_from_column, vtype, family),
            Column(s.valid_to_column, vtype, family),
            Column(s.is_current_column, sa.Boolean(), BOOLEAN),
        ]

    def removes_what_the_batch_lacks(self) -> bool:
        return self.spec.deletes == "close"

    def current_rows(self, table: sa.Table) -> sa.Select[Any]:
        return sa.select(table).where(table.c[self.spec.is_current_column] == sa.true())

    def as_of(self, table: sa.Table, when: datetime) -> sa.Select[Any]:
        """The versions in effect just before ``when``: valid_from < when <= valid_to (or still open)."""
        valid_from, valid_to = table.c[self.spec.valid_from_column], table.c[self.spec.valid_to_column]
        at = sa.literal(when, valid_from.type)
        return sa.select(table).where(valid_from < at, sa.or_(valid_to.is_(None), valid_to >= at))

    # ------------------------------------------------------------------ named pieces
    def tracked(self, ctx: LoadContext[SCD2Spec]) -> list[str]:
        s = ctx.spec
        if s.track is not None:
            return s.track
        return [c for c in ctx.columns if c not in s.keys and c != s.effective_from]

    def untracked(self, ctx: LoadContext[SCD2Spec]) -> list[str]:
        tracked = set(self.tracked(ctx))
        return [c for c in ctx.columns if c not in ctx.spec.keys and c not in tracked]

    def effective(self, ctx: LoadContext[SCD2Spec]) -> sa.ColumnElement[object]:
        s = ctx.spec
        if s.effective_from:
            return ctx.batch.c[s.effective_from]
        family = ctx.table_columns[s.valid_from_column].family
        return sa.literal(time_value(ctx.run_time, family), ctx.table.c[s.valid_from_column].type)

    def current(self, ctx: LoadContext[SCD2Spec]) -> sa.ColumnElement[bool]:
        return ctx.table.c[ctx.spec.is_current_column] == sa.true()

    def changed(self, ctx: LoadContext[SCD2Spec]) -> list[sa.ColumnElement[bool]]:
        """Current versions whose tracked columns differ from the batch row of the same key."""
        t, b = ctx.table, ctx.batch
        tracked = self.tracked(ctx)
        if not tracked:
            return [sa.false()]
        return [keys_match(t, b, ctx.spec.keys), self.current(ctx), any_distinct(t, b, tracked)]

    # ------------------------------------------------------------------ checks
    def validate(self, ctx: LoadContext[SCD2Spec]) -> None:
        s = ctx.spec
        if s.effective_from:
            nulls = ctx.scalar(
                sa.select(sa.func.count()).select_from(ctx.batch).where(ctx.batch.c[s.effective_from].is_(None))
            )
            if nulls:
                raise DataContractError(
                    f"effective_from column {s.effective_from!r} has {nulls} NULLs in this batch; "
                    "every version needs a start time",
                    mart=ctx.mart,
                )
        late = ctx.scalar(
            sa.select(sa.func.count())
            .select_from(ctx.table)
            .where(*self.changed(ctx), self.effective(ctx) <= ctx.table.c[s.valid_from_column])
        )
        if late:
            raise DataContractError(
                f"{late} changed rows have an effective_from at or before their current version's "
                f"{s.valid_from_column}; out-of-order changes would make versions overlap",
                mart=ctx.mart,
            )

    # ------------------------------------------------------------------ the load
    def load(self, ctx: LoadContext[SCD2Spec]) -> Counts:
        counts = Counts()
        counts.closed = self.close_changed(ctx)
        if ctx.spec.deletes == "close":
            counts.deleted = self.close_deleted(ctx)
        if ctx.spec.untracked == "update":
            counts.updated = self.update_untracked(ctx)
        counts.inserted = self.open_versions(ctx)
        counts.unchanged = ctx.rows - counts.inserted - counts.updated
        return counts

    def close_changed(self, ctx: LoadContext[SCD2Spec]) -> int:
        s = ctx.spec
        return ctx.execute(
            sa.update(ctx.table)
            .where(*self.changed(ctx))
            .values({s.valid_to_column: self.effective(ctx), s.is_current_column: sa.false()})
        )

    def close_deleted(self, ctx: LoadContext[SCD2Spec]) -> int:
        s = ctx.spec
        closed_at = time_value(ctx.run_time, ctx.table_columns[s.valid_to_column].family)
        return ctx.execute(
            sa.update(ctx.table)
            .where(self.current(ctx), ~exists_in(ctx.batch, ctx.table, s.keys))
            .values(
                {
                    s.valid_to_column: sa.literal(closed_at, ctx.table.c[s.valid_to_column].type),
                    s.is_current_column: sa.false(),
                }
            )
        )

    def update_untracked(self, ctx: LoadContext[SCD2Spec]) -> int:
        t, b, cols = ctx.table, ctx.batch, self.untracked(ctx)
        if not cols:
            return 0
        return ctx.execute(
            sa.update(t)
            .values({c: b.c[c] for c in cols})
            .where(keys_match(t, b, ctx.spec.keys), self.current(ctx), any_distinct(t, b, cols))
        )

    def open_versions(self, ctx: LoadContext[SCD2Spec]) -> int:
        """New keys, changed keys (just closed) and returning keys get a current version."""
        s, t, b = ctx.spec, ctx.table, ctx.batch
        valid_from = self.effective(ctx)
        if s.deletes == "close":
            prev = t.alias("prev")
            closed_at = (
                sa.select(sa.func.max(prev.c[s.valid_to_column])).where(keys_match(prev, b, s.keys)).scalar_subquery()
            )
            valid_from = sa.case((closed_at > valid_from, closed_at), else_=valid_from)
        rows = sa.select(
            *(b.c[c] for c in ctx.columns),
            valid_from,
            sa.null().label(s.valid_to_column),
            sa.true().label(s.is_current_column),
        ).where(~exists_in(t, b, s.keys, self.current(ctx)))
        cols = [*ctx.columns, s.valid_from_column, s.valid_to_column, s.is_current_column]
        return ctx.execute(sa.insert(t).from_select(cols, rows))
