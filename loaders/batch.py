"""Which rows take part in a load: the source's column contract, then from the staged table the
watermark and window filters, NULL and duplicate-key checks, and one row per key when a dedupe column
says which wins.

Separate from the runner so the rules for *which* rows take part in a load read in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders import progress
from loaders.errors import DataContractError, LoaderError, SourceError, SpecError, TargetError, first_line
from loaders.lazy import lazy
from loaders.sources import Pushdown, QuerySource, Source

if TYPE_CHECKING:
    import pyarrow as pa

    from loaders.strategies import Strategy
    from loaders.targets import Staged, Target
else:
    pa = lazy("pyarrow")


def open_source(source: Source, pushdown: Pushdown | None, strategy: Strategy[Any], mart: str) -> pa.RecordBatchReader:
    """Start reading the source and check it has every column the mart needs, before anything is staged."""
    try:
        reader = source.read(pushdown)
    except LoaderError as e:
        raise e.for_mart(mart) from None
    except (OSError, pa.ArrowException) as e:
        raise SourceError(f"cannot read {source.describe()}: {first_line(e)}", mart=mart) from None
    names = reader.schema.names
    if getattr(source, "schemaless_when_empty", False) and getattr(source, "rows_read", None) == 0:
        return _empty_with(reader.schema, [c for cols in required_columns(strategy).values() for c in cols])
    check_columns(names, strategy, mart)
    return _checked(reader, source, strategy.spec.keys, mart)


def stage_in_target(
    conn: sa.Connection,
    target: Target,
    sql: tuple[str, dict[str, Any]],
    source: Source,
    strategy: Strategy[Any],
    name: str,
    mart: str,
) -> Staged:
    """The batch as a query the target runs itself (a query source on the target, or files the engine
    reads in place): the target stages its result, no row leaves the engine, then the same column
    contract as a streamed source. What the engine refuses is the source's fault (a SourceError naming
    the mart and the source); a lost connection stays the target's, so it is retried."""
    query, params = sql
    with read_by_target(target, source, mart):
        staged = target.stage_query(conn, query, params, name, strategy.spec.keys)
    check_columns([c.name for c in staged.columns], strategy, mart)
    for key in strategy.spec.keys:  # as the stream checks each batch: NaN cannot identify a row
        nan = target.is_nan(staged.table.c[key])
        if nan is not None and count(conn, staged.table, nan):
            raise DataContractError(f"key column {key!r} has NaN in this batch; NaN cannot identify a row", mart=mart)
    progress.rows_read(mart, staged.rows)  # all at once: the engine read them
    return staged


@contextmanager
def read_by_target(target: Target, source: Source, mart: str) -> Iterator[None]:
    """What the engine refuses while it reads the source itself (a query, files in place) is the
    source's fault: a SourceError naming the mart and the source. A lost connection stays the
    target's, so it is retried."""
    try:
        yield
    except sa.exc.DBAPIError as e:
        orig = e.orig if e.orig is not None else e
        if e.connection_invalidated or target.classify(orig) is not TargetError:
            raise
        what = "query on the target failed" if isinstance(source, QuerySource) else f"cannot read {source.describe()}"
        raise SourceError(f"{what}: {first_line(orig)}", mart=mart) from None


def check_columns(names: list[str], strategy: Strategy[Any], mart: str) -> None:
    """Every column the mart needs is in the source, before anything is loaded."""
    for role, cols in required_columns(strategy).items():
        missing = [c for c in cols if c not in names]
        if missing:
            raise DataContractError(
                f"{role} column {missing[0]!r} is not in the source; source columns: {', '.join(names)}", mart=mart
            )


def _empty_with(schema: pa.Schema, columns: list[str]) -> pa.RecordBatchReader:
    """An empty change feed (a topic with only tombstones) has no columns to show: the columns the
    mart needs, as NULL-typed columns of no rows, make it an empty batch."""
    extra = [pa.field(c, pa.null()) for c in dict.fromkeys(columns) if c not in schema.names]
    full = pa.schema([*schema, *extra])
    return pa.RecordBatchReader.from_batches(full, iter([]))


def _checked(reader: pa.RecordBatchReader, source: Source, keys: list[str], mart: str) -> pa.RecordBatchReader:
    """Checks made on the stream itself, batch by batch:

    - a file that breaks further in (a ragged CSV line, a value that no longer parses as the column's
      type) is a one-line SourceError naming the mart and the source, not a traceback;
    - a NaN in a float key is refused: NaN equals nothing (or, on some engines, every NaN), so it
      cannot identify a row the same way on every engine.
    """
    float_keys = [k for k in keys if pa.types.is_floating(reader.schema.field(k).type)]
    if float_keys:
        import pyarrow.compute as pc

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                for key in float_keys:
                    if pc.any(pc.is_nan(batch.column(key))).as_py():
                        raise DataContractError(
                            f"key column {key!r} has NaN in this batch; NaN cannot identify a row", mart=mart
                        )
                progress.rows_read(mart, batch.num_rows)
                yield batch
        except (OSError, pa.ArrowException) as e:
            raise SourceError(f"cannot read {source.describe()}: {first_line(e)}", mart=mart) from None

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def required_columns(strategy: Strategy[Any]) -> dict[str, list[str]]:
    """The source columns a mart cannot load without, by the role that needs them (named in errors)."""
    s = strategy.spec
    roles = {
        "key": s.keys,
        "cursor": [s.cursor_column] if s.cursor_column else [],
        "dedupe_by": [s.dedupe_by] if s.dedupe_by else [],
    }
    named = {c for cols in roles.values() for c in cols}
    roles["required"] = [c for c in strategy.required_columns() if c not in named]
    return roles


@dataclass(frozen=True)
class BatchRules:
    mart: str
    keys: list[str]
    cursor: str | None
    #: keep one row per key, the one with the greatest value of this column (ties are an error)
    dedupe: str | None
    #: the rows an earlier load applied (the strategy's rule; mostly: at or below the watermark)
    stale: Callable[[sa.Table, str, Any], sa.ColumnElement[bool]]
    #: rows about the whole table, which have no key (a CDC truncate)
    keyless: Callable[[sa.Table], sa.ColumnElement[bool] | None]
    #: columns no two rows may share (mostly the keys; a feed of versions: keys and sequence)
    unique: list[str]


def prepare(conn: sa.Connection, target: Target, staged: Staged, rules: BatchRules, bound: Any) -> tuple[sa.Table, int]:
    """Keep rows past the watermark (``bound``), one per key if asked; check keys are usable."""
    stage, keys, cursor = staged.table, rules.keys, rules.cursor
    if cursor and (nulls := count(conn, stage, stage.c[cursor].is_(None))):
        raise DataContractError(
            f"cursor column {cursor!r} has {nulls} NULLs in this batch; rows without a cursor can never be loaded once",
            mart=rules.mart,
        )
    keyless = rules.keyless(stage)
    keyed = sa.not_(keyless) if keyless is not None else sa.true()
    if keys and (nulls := count(conn, stage, sa.or_(*(stage.c[k].is_(None) for k in keys)), keyed)):
        col = next(k for k in keys if count(conn, stage, stage.c[k].is_(None), keyed))
        raise DataContractError(
            f"key column {col!r} has NULLs in {nulls} rows of this batch; keys must be non-null", mart=rules.mart
        )
    if cursor and bound is not None:
        # Rows at or below the watermark leave the stage itself (pushdown usually left none), so every
        # later statement reads only the rows to apply.
        staged = target.remove_from_stage(conn, staged, rules.stale(stage, cursor, bound))
        stage = staged.table
    batch = stage
    if rules.dedupe:
        staged = target.materialize_stage(conn, staged)
        batch = stage = staged.table
        check_unique(conn, stage, [*keys, rules.dedupe], rules.mart, tie=rules.dedupe)
        ranked = sa.select(
            stage,
            sa.func.row_number()
            .over(partition_by=[stage.c[k] for k in keys], order_by=stage.c[rules.dedupe].desc())
            .label("_rn"),
        ).subquery("ranked")
        chosen = sa.select(*(ranked.c[c.name] for c in staged.columns)).where(ranked.c._rn == 1)
        batch = target.create_temp_as(conn, f"{stage.name}_batch", chosen, keys)
    elif keys:
        check_unique(conn, batch, rules.unique, rules.mart)
    rows = staged.rows if batch is stage and bound is None else count(conn, batch)
    return batch, rows


def refuse_empty_snapshot(conn: sa.Connection, strategy: Strategy[Any], table: sa.Table, rows: int, mart: str) -> None:
    """An empty batch for a strategy that removes what the batch lacks would empty the mart: refused
    (unless ``allow_empty``), since a zero-row extract is what a source outage looks like."""
    if rows or strategy.spec.allow_empty or not strategy.removes_what_the_batch_lacks():
        return
    current = count(conn, strategy.current_rows(table).subquery())
    if current:
        raise DataContractError(
            f"the source is empty, and {strategy.name} would remove all {current} current rows of {table.name}; "
            "an empty extract usually means a source outage (set `allow_empty: true` if it can really be empty)",
            mart=mart,
        )


def keep_window(
    conn: sa.Connection, target: Target, staged: Staged, column_name: str, window: tuple[Any, Any], mart: str
) -> tuple[Staged, tuple[Any, Any]]:
    """Backfill: keep only the rows whose cursor (or partition) lies in [from, to); returns the typed window."""
    column = staged.table.c[column_name]
    family = next(c.family for c in staged.columns if c.name == column_name)
    start, end = (coerce_bound(v, family, mart) for v in window)
    if start >= end:
        raise SpecError(f"--from {start} is not before --to {end}: the window [from, to) would be empty", mart=mart)
    outside = sa.or_(column.is_(None), column < sa.literal(start, column.type), column >= sa.literal(end, column.type))
    return target.remove_from_stage(conn, staged, outside), (start, end)


def coerce_bound(value: Any, family: str, mart: str) -> Any:
    """A --from/--to value (often a string from the command line) in the type of its column."""
    if not isinstance(value, str):
        return value.date() if family == "date" and isinstance(value, datetime) else value
    try:
        if family == "integer":
            return int(value)
        if family in ("float", "decimal"):
            return float(value)
        if family in ("date", "timestamp", "timestamptz"):
            parsed = datetime.fromisoformat(value)
            return parsed.date() if family == "date" else parsed
    except ValueError:
        raise SpecError(f"--from/--to value {value!r} does not fit a {family} column", mart=mart) from None
    return value


def check_unique(conn: sa.Connection, table: sa.Table, cols: list[str], mart: str, tie: str | None = None) -> None:
    """Fail with an example when ``cols`` repeat; with ``tie``, the dedupe column cannot pick a winner."""
    groups = (
        sa.select(*(table.c[c] for c in cols), sa.func.count().label("n"))
        .group_by(*(table.c[c] for c in cols))
        .having(sa.func.count() > 1)
    )
    example = conn.execute(groups.order_by(sa.desc("n")).limit(1)).first()
    if example is None:
        return
    total = conn.execute(sa.select(sa.func.count()).select_from(groups.subquery())).scalar()
    shown = ", ".join(f"{c}={example[i]!r}" for i, c in enumerate(cols))
    if tie:
        raise DataContractError(
            f"{total} keys have more than one row with the same {tie!r}, e.g. {shown} "
            f"({example[-1]} rows); cannot tell which row wins",
            mart=mart,
        )
    raise DataContractError(
        f"{total} keys appear more than once in this batch, e.g. {shown} ({example[-1]} rows); "
        "keys must be unique, or set `dedupe_by: COLUMN` to keep the latest row per key",
        mart=mart,
    )


def count(conn: sa.Connection, table: sa.FromClause, *where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0)
