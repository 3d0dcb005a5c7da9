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

With ``sequence`` the source is a change feed rather than a snapshot (op column as in ``cdc``):
every event is a version, in sequence order, whatever the file order. A version is valid from its
event's ``effective_from`` (the commit time, e.g. Debezium's ``__source_ts``) to the next event's;
a delete closes the key at the delete's ``effective_from``, and a re-insert opens a new version.
Events of a key already in the history (same sequence) are skipped, so a replay adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from loaders.errors import DataContractError
from loaders.marts import SCD2Spec
from loaders.result import Counts
from loaders.spec import FEED_UNCHANGED
from loaders.strategies.base import (
    DELETE_OPS,
    UPSERT_OPS,
    LoadContext,
    Strategy,
    any_distinct,
    exists_in,
    feed_stale,
    keys_match,
    refuse_unknown_ops,
    time_value,
)
from loaders.targets.columns import BOOLEAN, TIMESTAMP, Column


class SCD2(Strategy[SCD2Spec]):
    name = "scd2"
    spec_model = SCD2Spec

    def required_columns(self) -> list[str]:
        s = self.spec
        feed = [s.op_column] if s.sequence else []
        return super().required_columns() + (s.track or []) + ([s.effective_from] if s.effective_from else []) + feed

    def landing_columns(self, source: list[str]) -> list[str]:
        feed = {self.spec.op_column, FEED_UNCHANGED} if self.spec.sequence else set()
        return [c for c in source if c not in feed]

    # a change feed: reads at the watermark kept (a split snapshot), versions unique by key and sequence
    def keeps_rows_at_watermark(self) -> bool:
        return self.spec.sequence is not None

    def stale(self, stage: sa.Table, cursor: str, bound: Any) -> sa.ColumnElement[bool]:
        if self.spec.sequence:
            return feed_stale(stage, cursor, bound, self.spec.op_column)
        return super().stale(stage, cursor, bound)

    def batch_unique(self) -> list[str]:
        return [*self.spec.keys, self.spec.sequence] if self.spec.sequence else self.spec.keys

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
        if s.sequence:
            refuse_unknown_ops(ctx, s.op_column, (*UPSERT_OPS, *DELETE_OPS), "I/U/D or Debezium c/r/u/d")
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
        if s.sequence:
            return  # a feed's order is checked on its events, in load_feed
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
        if ctx.spec.sequence:
            return self.load_feed(ctx)
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

    # ------------------------------------------------------------------ from a change feed
    def load_feed(self, ctx: LoadContext[SCD2Spec]) -> Counts:
        """Events -> versions, in four statements: the events not yet in the history with their
        neighbours' times (a temp table), close each key's current version at its first event, open a
        version per insert/update event, valid until the key's next event."""
        s, t = ctx.spec, ctx.table
        events = ctx.target.create_temp_as(ctx.conn, f"{ctx.batch.name}_events", self.events(ctx), s.keys)
        try:
            self.keep_unsent_values(ctx, events)
            self.check_feed_order(ctx, events)
            counts = Counts()
            first = sa.select(sa.func.min(events.c._eff)).where(keys_match(events, t, s.keys)).scalar_subquery()
            counts.closed = ctx.execute(
                sa.update(t)
                .where(self.current(ctx), exists_in(events, t, s.keys))
                .values({s.valid_to_column: first, s.is_current_column: sa.false()})
            )
            versions = sa.select(
                *(events.c[c] for c in ctx.columns),
                events.c._eff,
                events.c._next,
                sa.case((events.c._rn == 1, sa.true()), else_=sa.false()),
            ).where(events.c._op.in_(UPSERT_OPS))
            cols = [*ctx.columns, s.valid_from_column, s.valid_to_column, s.is_current_column]
            counts.inserted = ctx.execute(sa.insert(t).from_select(cols, versions))
            counts.deleted = ctx.scalar(
                sa.select(sa.func.count()).select_from(events).where(events.c._op.in_(DELETE_OPS))
            )
            counts.unchanged = max(0, ctx.rows - counts.inserted - counts.deleted)
            return counts
        finally:
            ctx.target.drop_temp(ctx.conn, events)

    def events(self, ctx: LoadContext[SCD2Spec]) -> sa.Select[Any]:
        """The batch's events not yet in the history, each with its key's previous and next event time
        and its rank from the last (1: the key's newest event)."""
        s, t, b = ctx.spec, ctx.table, ctx.batch
        assert s.sequence is not None
        eff, order, part = self.effective(ctx), b.c[s.sequence], [b.c[k] for k in s.keys]
        applied = sa.exists().where(keys_match(t, b, s.keys), t.c[s.sequence] == b.c[s.sequence])
        unsent = [b.c[FEED_UNCHANGED]] if FEED_UNCHANGED in b.c else []
        return sa.select(
            *(b.c[c] for c in ctx.columns),
            *unsent,
            sa.func.upper(b.c[s.op_column]).label("_op"),
            eff.label("_eff"),
            sa.func.lag(eff).over(partition_by=part, order_by=order).label("_prev"),
            sa.func.lead(eff).over(partition_by=part, order_by=order).label("_next"),
            sa.func.row_number().over(partition_by=part, order_by=order.desc()).label("_rn"),
        ).where(~applied)

    def keep_unsent_values(self, ctx: LoadContext[SCD2Spec], events: sa.Table) -> None:
        """A column an update did not send (``__unchanged``: PostgreSQL's TOAST) keeps the value of the
        key's current version (a later event of the same read already has it from the source)."""
        if FEED_UNCHANGED not in events.c:
            return
        s, t, unsent = ctx.spec, ctx.table, events.c[FEED_UNCHANGED]
        kept = {
            c: sa.case(
                (
                    unsent.contains(f",{c},"),
                    sa.select(t.c[c]).where(keys_match(t, events, s.keys), self.current(ctx)).scalar_subquery(),
                ),
                else_=events.c[c],
            )
            for c in ctx.values
        }
        ctx.conn.execute(sa.update(events).where(unsent.is_not(None)).values(kept))

    def check_feed_order(self, ctx: LoadContext[SCD2Spec], events: sa.Table) -> None:
        """An event with a later sequence but an earlier effective_from than the one before it (in the
        batch, or the key's current version) would make versions overlap: refused."""
        s, t = ctx.spec, ctx.table
        inside = ctx.scalar(
            sa.select(sa.func.count())
            .select_from(events)
            .where(events.c._prev.is_not(None), events.c._eff < events.c._prev)
        )
        behind = ctx.scalar(
            sa.select(sa.func.count())
            .select_from(events)
            .join(t, keys_match(events, t, s.keys))
            .where(events.c._prev.is_(None), self.current(ctx), events.c._eff < t.c[s.valid_from_column])
        )
        if inside or behind:
            raise DataContractError(
                f"{inside + behind} events have an effective_from before the previous event of their key "
                f"(by {s.sequence}); out-of-order changes would make versions overlap",
                mart=ctx.mart,
            )
