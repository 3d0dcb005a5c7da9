"""Periodic snapshots: each run appends the whole source stamped with its date.

The date is the run's logical date (the load time's date outside Airflow). Running the same date again
replaces that date's snapshot, so reruns and backfills are idempotent; ``retain: N`` keeps the newest
N snapshot dates and deletes older ones in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from loaders.marts import SnapshotSpec
from loaders.result import Counts
from loaders.strategies.base import LoadContext, Strategy
from loaders.targets.columns import DATE, Column


class Snapshot(Strategy[SnapshotSpec]):
    name = "snapshot"
    spec_model = SnapshotSpec

    def managed_columns(self, source: dict[str, Column]) -> list[Column]:
        return [Column(self.spec.snapshot_column, sa.Date(), DATE)]

    def current_rows(self, table: sa.Table) -> sa.Select[Any]:
        """The newest snapshot."""
        snap = table.c[self.spec.snapshot_column]
        return sa.select(table).where(snap == sa.select(sa.func.max(snap)).scalar_subquery())

    def as_of(self, table: sa.Table, when: datetime) -> sa.Select[Any]:
        """The newest snapshot dated on or before ``when``'s date (a daily snapshot taken early on a day
        holds the day before, so midnight gives the end of the day before, as for SCD2)."""
        snap = table.c[self.spec.snapshot_column]
        taken = sa.select(sa.func.max(snap)).where(snap <= sa.literal(when.date(), snap.type)).scalar_subquery()
        return sa.select(table).where(snap == taken)

    def load(self, ctx: LoadContext[SnapshotSpec]) -> Counts:
        t, snap = ctx.table, ctx.table.c[ctx.spec.snapshot_column]
        day = sa.literal(ctx.run_time.date(), snap.type)
        replaced = ctx.execute(sa.delete(t).where(snap == day))
        rows = sa.select(*(ctx.batch.c[c] for c in ctx.columns), day.label(snap.name))
        inserted = ctx.execute(sa.insert(t).from_select([*ctx.columns, snap.name], rows))
        expired = self.expire(ctx) if ctx.spec.retain else 0
        return Counts(inserted=inserted, deleted=replaced + expired, unchanged=0)

    def expire(self, ctx: LoadContext[SnapshotSpec]) -> int:
        """Delete snapshots older than the newest ``retain`` dates."""
        snap = ctx.table.c[ctx.spec.snapshot_column]
        newest = (
            ctx.conn.execute(sa.select(snap).distinct().order_by(snap.desc()).limit(ctx.spec.retain or 0))
            .scalars()
            .all()
        )
        if len(newest) < (ctx.spec.retain or 0):
            return 0
        return ctx.execute(sa.delete(ctx.table).where(snap < sa.literal(newest[-1], snap.type)))
