"""What a strategy is: options, the columns it manages, and one ``load`` of set-based SQL.

A strategy never knows the engine: it builds SQLAlchemy Core statements against the target and batch
tables it is handed in a :class:`LoadContext`, and asks the adapter for capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa

from loaders.result import Counts
from loaders.spec import MartBase
from loaders.targets.base import DATE, TIMESTAMPTZ, Column, Target

if TYPE_CHECKING:
    from loaders.result import LoadResult

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

    def execute(self, statement: sa.Executable) -> int:
        """Run one statement; its row count feeds the result (kept for INSERT ... SELECT too)."""
        return max(self.conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount, 0)

    def scalar(self, statement: sa.Select[Any]) -> Any:
        return self.conn.execute(statement).scalar()


class Strategy(Generic[SpecT]):
    """Base of the loader classes. ``Merge(keys=["id"]).run(source, target)`` or built from a spec."""

    name: ClassVar[str]
    spec_model: ClassVar[type[MartBase]]
    #: the table holds one row per key, so its key index can be unique
    unique_keys: ClassVar[bool] = False

    def __init__(self, spec: SpecT | None = None, /, **options: Any) -> None:
        if spec is None:
            from loaders.spec import parse_mart

            spec = parse_mart(options.pop("mart", None) or self.name, {"strategy": self.name, **options})  # type: ignore[assignment]
        elif options:
            spec = spec.model_copy(update=options)  # type: ignore[assignment]
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

    def validate(self, ctx: LoadContext[SpecT]) -> None:
        """Strategy-specific data checks, run before anything is written."""

    def load(self, ctx: LoadContext[SpecT]) -> Counts:
        raise NotImplementedError

    # ------------------------------------------------------------------ Python API
    def run(
        self,
        source: Any,
        target: str,
        *,
        table: str | None = None,
        mart: str | None = None,
        run_time: datetime | None = None,
        plan: bool = False,
        state_schema: str | None = None,
    ) -> LoadResult:
        """Load ``source`` (path, Arrow table, DataFrame, rows, Source) into ``target`` (a URL)."""
        from loaders.runner import load_mart

        spec = self.spec if table is None else self.spec.model_copy(update={"table": table})
        return load_mart(
            mart or spec.table or self.name,
            spec,
            target,
            source=source,
            run_time=run_time,
            plan=plan,
            state_schema=state_schema,
            strategy=self,
        )


# ---------------------------------------------------------------------- SQL helpers
def keys_match(left: sa.FromClause, right: sa.FromClause, keys: list[str]) -> sa.ColumnElement[bool]:
    """Composite keys compared column by column (never concatenated)."""
    return sa.and_(*(left.c[k] == right.c[k] for k in keys))


def any_distinct(left: sa.FromClause, right: sa.FromClause, cols: list[str]) -> sa.ColumnElement[bool]:
    """True when any column differs, NULL-safe (NULL vs NULL is equal)."""
    return sa.or_(*(left.c[c].is_distinct_from(right.c[c]) for c in cols))


def exists_in(other: sa.FromClause, this: sa.FromClause, keys: list[str], *extra: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(keys_match(other, this, keys), *extra)


def time_value(run_time: datetime, family: str) -> Any:
    """The load time in the type of the column it goes into (date, naive UTC, or aware UTC)."""
    if family == DATE:
        return run_time.date()
    if family == TIMESTAMPTZ:
        return run_time.replace(tzinfo=timezone.utc)
    return run_time
