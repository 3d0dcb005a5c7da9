"""CDC: apply a change feed. The last event per key (by sequence) wins, whatever the file order.

Ops are I/U/D or Debezium's c/r/u/d, case-insensitive. I and U upsert (a U for a missing key
inserts it); D deletes (a no-op when absent) or, with ``deletes: soft``, sets a flag. The sequence
is the watermark: events below it are skipped, and so are events at it, except snapshot reads (R):
all reads of one snapshot share a position, so a snapshot delivered over two runs would otherwise
lose its second half; a read applied twice leaves the row as it was. Replaying a feed changes nothing.
A T (truncate) empties the mart at its place in the feed, with ``truncate: apply`` only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from loaders.errors import DataContractError, SpecError
from loaders.marts import CDCSpec
from loaders.result import Counts
from loaders.spec import FEED_UNCHANGED
from loaders.strategies.base import (
    DELETE_OPS,
    UPSERT_OPS,
    LoadContext,
    Strategy,
    any_distinct,
    delete_matching,
    exists_in,
    feed_stale,
    keys_match,
    op_in,
    op_not_in,
    refuse_unknown_ops,
)
from loaders.targets.columns import BOOLEAN, Column

TRUNCATE = "T"


class CDC(Strategy[CDCSpec]):
    name = "cdc"
    spec_model = CDCSpec
    unique_keys = True

    def keeps_rows_at_watermark(self) -> bool:
        return True

    def stale(self, stage: sa.Table, cursor: str, bound: Any) -> sa.ColumnElement[bool]:
        return feed_stale(stage, cursor, bound, self.spec.op_column)

    def keyless(self, stage: sa.Table) -> sa.ColumnElement[bool] | None:
        return op_in(stage.c[self.spec.op_column], (TRUNCATE,))

    def required_columns(self) -> list[str]:
        return [*super().required_columns(), self.spec.op_column]

    def dedupe_column(self) -> str | None:
        return self.spec.sequence

    def landing_columns(self, source: list[str]) -> list[str]:
        s = self.spec
        drop = {s.op_column, FEED_UNCHANGED} if not s.keep_op else {FEED_UNCHANGED}
        if not s.keep_sequence:
            drop.add(s.sequence)
        return [c for c in source if c not in drop]

    def managed_columns(self, source: dict[str, Column]) -> list[Column]:
        if self.spec.deletes == "soft":
            return [Column(self.spec.deleted_column, sa.Boolean(), BOOLEAN)]
        return []

    def window_column(self) -> str:
        raise SpecError(
            f"--from/--to reloads a window of a cursor or partition_by column; strategy {self.name!r} "
            "replays its feed from the watermark instead"
        )

    def op_is(self, ctx: LoadContext[CDCSpec], *codes: str) -> sa.ColumnElement[bool]:
        return op_in(ctx.batch.c[ctx.spec.op_column], codes)

    def validate(self, ctx: LoadContext[CDCSpec]) -> None:
        """Unknown op codes and a truncate the mart refuses, in one scan of the batch (the codes are
        listed by a second query only when there are some)."""
        known = (*UPSERT_OPS, *DELETE_OPS, TRUNCATE)
        b, op = ctx.batch, ctx.batch.c[ctx.spec.op_column]
        unknown = sa.or_(op_not_in(op, known), op.is_(None))
        bad, at = ctx.conn.execute(
            sa.select(
                sa.func.count(sa.case((unknown, 1))),
                sa.func.max(sa.case((self.op_is(ctx, TRUNCATE), b.c[ctx.spec.sequence]))),
            )
        ).one()
        if bad:
            refuse_unknown_ops(ctx, ctx.spec.op_column, known, "I/U/D or Debezium c/r/u/d (t: truncate)")
        if ctx.spec.truncate == "refuse" and at is not None:
            raise DataContractError(
                f"the feed truncates the table (op T at {ctx.spec.sequence} {at}); set `truncate: apply` "
                "to empty the mart at that point and apply the events after it, or take the event out",
                mart=ctx.mart,
            )

    def truncated_at(self, ctx: LoadContext[CDCSpec]) -> Any:
        """The sequence of the batch's last truncate, if it has one."""
        last = sa.select(sa.func.max(ctx.batch.c[ctx.spec.sequence])).where(self.op_is(ctx, TRUNCATE))
        return ctx.conn.execute(last).scalar()

    def load(self, ctx: LoadContext[CDCSpec]) -> Counts:
        t, b, keys = ctx.table, ctx.batch, ctx.spec.keys
        is_upsert, is_delete = self.op_is(ctx, *UPSERT_OPS), self.op_is(ctx, *DELETE_OPS)
        values = ctx.values
        counts = Counts()
        if ctx.spec.truncate == "apply" and (at := self.truncated_at(ctx)) is not None:
            counts.deleted = self.truncate(ctx)
            after = b.c[ctx.spec.sequence] > sa.literal(at, b.c[ctx.spec.sequence].type)
            is_upsert, is_delete = sa.and_(is_upsert, after), sa.and_(is_delete, after)
        soft = ctx.spec.deletes == "soft"
        if soft:
            flag = t.c[ctx.spec.deleted_column]
            counts.deleted += ctx.execute(
                sa.update(t)
                .values({flag.name: sa.true()})
                .where(keys_match(t, b, keys), is_delete, flag.is_not(sa.true()))
            )
        else:
            counts.deleted += ctx.execute(delete_matching(ctx, b, is_delete))
        cols = list(ctx.columns)
        select_cols: list[sa.ColumnElement[Any]] = [b.c[c] for c in cols]
        if soft:
            cols.append(ctx.spec.deleted_column)
            select_cols.append(sa.false().label(ctx.spec.deleted_column))
        rows = sa.select(*select_cols).where(is_upsert)
        if self.upserts(ctx):
            new_keys = sa.select(sa.func.count()).select_from(b).where(is_upsert, ~exists_in(t, b, keys))
            new = int(ctx.scalar(new_keys) or 0)
            upsert = ctx.target.upsert(t, rows, cols, keys, [c for c in cols if c not in keys])
            counts.inserted, counts.updated = ctx.target.upsert_counts(ctx.execute(upsert), ctx.rows, new)
        else:
            changed = any_distinct(t, b, values) if values else sa.false()
            set_values = self.new_values(ctx, values)
            if soft:  # an upsert of a flagged key brings it back
                set_values[flag.name] = sa.false()
                changed = sa.or_(changed, flag.is_(sa.true()))
            if set_values:
                update = sa.update(t).values(set_values).where(keys_match(t, b, keys), is_upsert, changed)
                counts.updated = ctx.execute(update)
            counts.inserted = ctx.execute(sa.insert(t).from_select(cols, rows.where(~exists_in(t, b, keys))))
        counts.unchanged = max(0, ctx.rows - counts.inserted - counts.updated - counts.deleted)
        return counts

    def upserts(self, ctx: LoadContext[CDCSpec]) -> bool:
        """One INSERT ... ON CONFLICT (keys) DO UPDATE WHERE <changed> for the events that upsert,
        instead of an UPDATE and an INSERT ... WHERE NOT EXISTS, each a join against the table
        (180k events into 1M rows, ``benchmarks/cdc_shapes.py``: SQLite 0.32-0.43 s against
        0.39-0.56 s in four runs; on PostgreSQL 1.29 s against 1.49 s in one, within the noise of
        each other in three more; on DuckDB a MERGE was no faster than the pair). It needs a
        unique index on the keys, which a table loaders created has and one created by hand may
        not, and an engine whose upsert names the keys it conflicts on. Columns an event did not
        send (``__unchanged``) keep the table's value, which only the UPDATE can say."""
        target, keys = ctx.target, ctx.spec.keys
        if not target.upsert_names_keys or FEED_UNCHANGED in ctx.batch.c:
            return False
        return target.unique_on(ctx.conn, ctx.table, keys)

    def new_values(self, ctx: LoadContext[CDCSpec], values: list[str]) -> dict[str, sa.ColumnElement[Any]]:
        """What an update sets: the batch's values, except columns the event says were not sent
        (``__unchanged``, from PostgreSQL's TOAST), which keep the target's value."""
        t, b = ctx.table, ctx.batch
        if FEED_UNCHANGED not in b.c:
            return {c: b.c[c] for c in values}
        return {c: sa.case((b.c[FEED_UNCHANGED].contains(f",{c},"), t.c[c]), else_=b.c[c]) for c in values}

    def truncate(self, ctx: LoadContext[CDCSpec]) -> int:
        """Every row goes (or is flagged deleted); what the batch has after the truncate comes back."""
        t = ctx.table
        if ctx.spec.deletes == "soft":
            flag = t.c[ctx.spec.deleted_column]
            return ctx.execute(sa.update(t).values({flag.name: sa.true()}).where(flag.is_not(sa.true())))
        return ctx.execute(sa.delete(t))
