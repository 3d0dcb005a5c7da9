"""What a strategy is: an options model, the columns it manages, a few questions the runner, the health
checks and ``compare`` ask it, and one ``load`` of set-based SQL.

A strategy never knows the engine: it builds SQLAlchemy Core statements against the target and batch
tables it is handed in a :class:`LoadContext`, and asks the adapter for capabilities. Running a
strategy (``Merge(keys=[...]).run(...)``) lives in ``loaders/api.py``, above the runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa

from loaders.errors import DataContractError, SpecError
from loaders.result import Counts
from loaders.spec import MartBase, validate_options
from loaders.targets.columns import DATE, TIMESTAMPTZ, Column
from loaders.targets.sql import any_distinct, keys_match

if TYPE_CHECKING:
    from loaders.targets.base import Target

__all__ = ["LoadContext", "Strategy", "any_distinct", "exists_in", "keys_match", "time_value"]

SpecT = TypeVar("SpecT", bound=MartBase)


@dataclass
class LoadContext(Generic[SpecT]):
    """Everything one load needs, passed explicitly (no globals)."""

    mart: str
    spec: SpecT
    conn: sa.Connection
    target: Target
    #: the target table, with every column it has after schema changes
    table: sa.Table
    table_columns: dict[str, Column]
    #: the rows to apply: staged, filtered past the watermark, deduplicated
    batch: sa.Table
    rows: int
    #: source columns that land in the target
    columns: list[str]
    watermark: Any
    run_time: datetime
    #: backfill window [from, to) of the cursor / partition column, when one is being reloaded
    window: tuple[Any, Any] | None = None
    #: called before each write to the target table: the runner opens the write transaction once
    before_write: Callable[[], None] | None = None

    @property
    def values(self) -> list[str]:
        """Landing columns that are not keys: the ones an update may change."""
        return [c for c in self.columns if c not in self.spec.keys]

    def execute(self, statement: sa.Executable) -> int:
        """Run one statement; its row count feeds the result (kept for INSERT ... SELECT too)."""
        if self.before_write is not None:
            self.before_write()
        return max(self.conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount, 0)

    def scalar(self, statement: sa.Select[Any]) -> Any:
        return self.conn.execute(statement).scalar()


class Strategy(Generic[SpecT]):
    """Base of the loader classes, built from a parsed spec or from options: ``Merge(keys=["id"])``."""

    name: ClassVar[str]
    #: the options model: a mart with ``strategy: <name>`` is parsed into it
    spec_model: ClassVar[type[MartBase]]
    #: the table holds one row per key, so its key index can be unique
    unique_keys: ClassVar[bool] = False

    def __init__(self, spec: SpecT | None = None, /, **options: Any) -> None:
        if spec is None:
            mart = options.pop("mart", None) or self.name
            spec = validate_options(self.spec_model, mart, {"strategy": self.name, **options})
        elif options:
            spec = spec.model_copy(update=options)
        self.spec: SpecT = spec  # type: ignore[assignment]

    # ------------------------------------------------------------------ what the runner asks
    def required_columns(self) -> list[str]:
        """Source columns without which this load cannot run (named in the error)."""
        s = self.spec
        cols = [*s.keys, *([s.cursor_column] if s.cursor_column else [])]
        return cols + ([s.dedupe_by] if s.dedupe_by else [])

    def dedupe_column(self) -> str | None:
        """Keep one row per key, the one with the greatest value here (ties are an error)."""
        return self.spec.dedupe_by

    def landing_columns(self, source: list[str]) -> list[str]:
        """Which source columns are written to the target."""
        return source

    def managed_columns(self, source: dict[str, Column]) -> list[Column]:
        """Columns the strategy adds to the target table (history, soft-delete flags)."""
        return []

    def removes_what_the_batch_lacks(self) -> bool:
        """The batch is the whole truth: rows or keys it does not carry are deleted or closed (so an
        empty batch would empty the mart)."""
        return False

    def lower_bound(self, watermark: Any) -> Any:
        """Rows must be past this to be loaded (a look-back widens it)."""
        return watermark

    def keeps_rows_at_watermark(self) -> bool:
        """A row exactly at the watermark may still be new (a feed's snapshot reads share one position)."""
        return False

    def stale(self, stage: sa.Table, cursor: str, bound: Any) -> sa.ColumnElement[bool]:
        """The batch's rows that an earlier load already applied: at or below the watermark."""
        return stage.c[cursor] <= sa.literal(bound, stage.c[cursor].type)

    def batch_unique(self) -> list[str]:
        """Columns whose values no two rows of a batch may share (the keys, for most strategies)."""
        return self.spec.keys

    def keyless(self, stage: sa.Table) -> sa.ColumnElement[bool] | None:
        """Rows about the whole table rather than one key (a CDC truncate): exempt from key checks."""
        return None

    def window_column(self) -> str:
        """The column a backfill window (``--from/--to``) ranges over."""
        if self.spec.cursor_column:
            return self.spec.cursor_column
        raise SpecError(
            f"--from/--to reloads a window of a cursor or partition_by column; strategy {self.name!r} has none"
        )

    def validate(self, ctx: LoadContext[SpecT]) -> None:
        """Strategy-specific data checks, run before anything is written."""

    def load(self, ctx: LoadContext[SpecT]) -> Counts:
        raise NotImplementedError

    # ------------------------------------------------------------------ how to read the table it keeps
    def current_rows(self, table: sa.Table) -> sa.Select[Any]:
        """The rows a reader takes as the present state (all of them, unless the table keeps history)."""
        return sa.select(table)

    def as_of(self, table: sa.Table, when: datetime) -> sa.Select[Any] | None:
        """The rows as they stood when ``when`` came (what was in effect just before it, so midnight
        gives the end of the day before), or None where the table keeps no history."""
        return None


# ---------------------------------------------------------------------- SQL helpers
#: change-feed op codes, in either case: I/U/D and Debezium's c/r/u/d
UPSERT_OPS = ("I", "C", "R", "U")
DELETE_OPS = ("D",)


def op_in(op: sa.ColumnElement[Any], codes: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The op column holds one of ``codes``, upper- or lower-case. Both spellings are listed rather
    than ``upper(op) IN (...)``: an engine compares a list of constants byte by byte, where upper()
    is a function call per event (a scan of 180k events on PostgreSQL: 0.05 s against 0.14 s, and
    a cdc load scans them five times). NULL is in no list, as before."""
    return op.in_(_spellings(codes))


def op_not_in(op: sa.ColumnElement[Any], codes: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The op column holds none of ``codes`` (NULL, as with NOT IN, is neither)."""
    return op.not_in(_spellings(codes))


def _spellings(codes: tuple[str, ...]) -> list[str]:
    return sorted({spelling for code in codes for spelling in (code.upper(), code.lower())})


def feed_stale(stage: sa.Table, cursor: str, bound: Any, op_column: str) -> sa.ColumnElement[bool]:
    """A change feed's applied events: below the watermark, or at it unless a snapshot read (R). All
    reads of one snapshot share a position, so a snapshot delivered over two runs would otherwise lose
    its second half; the strategies make a read applied twice change nothing."""
    at, op = sa.literal(bound, stage.c[cursor].type), stage.c[op_column]
    return sa.or_(stage.c[cursor] < at, sa.and_(stage.c[cursor] == at, op_not_in(op, ("R",))))


def refuse_unknown_ops(ctx: LoadContext[Any], column: str, known: tuple[str, ...], expected: str) -> None:
    op = ctx.batch.c[column]
    bad = (
        ctx.conn.execute(sa.select(op).distinct().where(sa.or_(op_not_in(op, known), op.is_(None))).limit(5))
        .scalars()
        .all()
    )
    if bad:
        raise DataContractError(
            f"op column {column!r} has unknown codes {sorted(map(repr, bad))}; expected {expected}", mart=ctx.mart
        )


def delete_matching(ctx: LoadContext[Any], other: sa.FromClause, *extra: sa.ColumnElement[bool]) -> sa.Delete:
    """DELETE the table's rows whose keys are in ``other`` (where ``extra`` holds), in the form the
    engine plans best (``Target.matched_delete``). Keys are never NULL here (the batch checks), so
    the three forms delete the same rows; a key twice in ``other`` still deletes its row once."""
    t, keys, form = ctx.table, ctx.spec.keys, ctx.target.matched_delete
    if form == "join":
        return sa.delete(t).where(keys_match(t, other, keys), *extra)
    if form == "in":
        matched = sa.select(*(other.c[k] for k in keys)).where(*extra)
        return sa.delete(t).where(sa.tuple_(*(t.c[k] for k in keys)).in_(matched))
    return sa.delete(t).where(exists_in(other, t, keys, *extra))


def exists_in(other: sa.FromClause, this: sa.FromClause, keys: list[str], *extra: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(keys_match(other, this, keys), *extra)


def time_value(run_time: datetime, family: str) -> Any:
    """The load time in the type of the column it goes into (date, naive UTC, or aware UTC)."""
    if family == DATE:
        return run_time.date()
    if family == TIMESTAMPTZ:
        return run_time.replace(tzinfo=timezone.utc)
    return run_time
