"""spec -> source -> stage -> strategy -> state, in one transaction; returns a LoadResult.

The CLI, the Python loader classes and the Airflow operator all call :func:`load_mart`; none of them
contains load logic. A failure rolls back the data and the watermark together, then adds one
``failed`` row to the run log in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from loaders import batch as batch_rules
from loaders import health
from loaders.errors import DataContractError, LoaderError, SchemaChangeError, SourceError, SpecError
from loaders.result import Counts, LoadResult
from loaders.sources import Pushdown, as_source
from loaders.spec import Checks, MartBase, Project
from loaders.state import State
from loaders.strategies import LoadContext, Strategy, for_spec
from loaders.targets import Column, Staged, TableRef, Target, open_target
from loaders.targets.base import arrow_type, fits
from loaders.urls import resolve_url


def utcnow() -> datetime:
    """Load times are naive UTC: every engine stores them the same way."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class _Plan:
    """Statements captured while a plan runs inside a transaction that is then rolled back."""

    statements: list[str] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("DESCRIBE", "SELECT COLUMN_NAME")):
            self.statements.append(statement.strip())


class _Rollback(Exception):
    """Raised inside the transaction of a plan so nothing it did is kept."""


def load_mart(
    mart: str,
    spec: MartBase,
    target: str | Target,
    *,
    source: Any = None,
    base_dir: Path | None = None,
    run_time: datetime | None = None,
    plan: bool = False,
    state_schema: str | None = None,
    strategy: Strategy[Any] | None = None,
    batch_key: str | None = None,
    window: tuple[Any, Any] | None = None,
) -> LoadResult:
    """Load one mart. Raises a :class:`LoaderError` (after logging the failed run) if it fails.

    ``batch_key`` names this batch (Airflow: dag, run, task and map index). If the run log already
    has a success under that key, nothing is loaded and the result says ``skipped``: a retried task
    whose first try committed never applies the batch twice, whatever the strategy.
    """
    strategy = strategy or for_spec(spec)
    own_target = not isinstance(target, Target)
    tgt = open_target(resolve_url(target, base_dir)) if isinstance(target, str) else target
    try:
        src = as_source(source if source is not None else spec.source, base_dir, mart=mart)
        ref = TableRef.parse(spec.table or mart)
        load = _Load(mart, spec, strategy, tgt, ref, run_time or utcnow(), State(tgt, state_schema))
        load.result.batch_key = batch_key
        if window is not None:
            load.window_column()
            load.window = window
        return load.run(src, plan=plan)
    finally:
        if own_target:
            tgt.close()


def run_project(
    project: Project,
    marts: list[str] | None = None,
    *,
    plan: bool = False,
    run_time: datetime | None = None,
    on_result: Any = None,
    window: tuple[Any, Any] | None = None,
) -> list[LoadResult | LoaderError]:
    """Load every mart of a marts file (or the named ones) into its target, one after another.

    A failed mart does not stop the others; its error is returned in its place.
    """
    names = marts or list(project.marts)
    unknown = [n for n in names if n not in project.marts]
    if unknown:
        raise SpecError(
            f"no mart named {', '.join(map(repr, unknown))}; marts in this file: {', '.join(project.marts)}"
        )
    target = open_target(resolve_url(project.target, project.base_dir))
    out: list[LoadResult | LoaderError] = []
    try:
        for name in names:
            try:
                outcome: LoadResult | LoaderError = load_mart(
                    name,
                    project.marts[name],
                    target,
                    base_dir=project.base_dir,
                    plan=plan,
                    run_time=run_time,
                    state_schema=project.state_schema,
                    window=window,
                )
            except LoaderError as e:
                outcome = e
            out.append(outcome)
            if on_result:
                on_result(name, outcome)
    finally:
        target.close()
    return out


class _Load:
    def __init__(
        self,
        mart: str,
        spec: MartBase,
        strategy: Strategy[Any],
        target: Target,
        ref: TableRef,
        run_time: datetime,
        state: State,
    ) -> None:
        self.mart, self.spec, self.strategy, self.target = mart, spec, strategy, target
        self.ref, self.run_time, self.state = ref, run_time, state
        #: backfill: reload [from, to) of the cursor / partition column instead of reading past the watermark
        self.window: tuple[Any, Any] | None = None
        self.run_id = str(uuid.uuid4())
        #: DDL this run did, undone on failure where the engine cannot roll DDL back
        self.created, self.added = False, list[str]()
        self.started = utcnow()
        self.result = LoadResult(
            mart=mart,
            strategy=spec.strategy,
            table=str(ref),
            status="running",
            run_id=self.run_id,
            started_at=self.started,
            finished_at=self.started,
        )

    def run(self, source: Any, plan: bool) -> LoadResult:
        capture = _Plan()
        with self.target.connect() as conn, self.target.lock(conn, self.mart):
            with self.target.translate_errors(self.mart):
                self.state.ensure(conn)
                applied = bool(self.result.batch_key) and not plan and self.already_applied(conn)
                conn.commit()
            if applied:
                return self.result
            if plan:
                sa.event.listen(conn, "before_cursor_execute", capture)
            try:
                with self.target.translate_errors(self.mart), conn.begin():
                    self.in_transaction(conn, source, plan)
                    if plan:
                        raise _Rollback
            except _Rollback:
                self.result.status, self.result.sql = "planned", capture.statements
                self.undo_ddl(conn)
            except Exception as e:  # an unexpected bug, too, leaves the target unchanged and logged
                self.undo_ddl(conn)
                self.log_failure(conn, e)
                raise
            finally:
                if plan:
                    sa.event.remove(conn, "before_cursor_execute", capture)
        return self.result

    def already_applied(self, conn: sa.Connection) -> bool:
        earlier = self.state.applied(conn, self.mart, self.result.batch_key or "")
        if earlier is None:
            return False
        r = self.result
        r.status, r.finished_at = "skipped", utcnow()
        r.error = f"batch {r.batch_key} was already applied by run {earlier['run_id']}"
        r.watermark_before = r.watermark_after = earlier["watermark_after"]
        self.state.log(conn, r)  # committed by the caller
        return True

    def undo_ddl(self, conn: sa.Connection) -> None:
        """Where DDL commits implicitly (MariaDB, generic), drop the table or columns this run added."""
        if self.target.ddl_is_transactional or not (self.created or self.added):
            return
        with contextlib.suppress(Exception), self.target.translate_errors(self.mart):
            if conn.in_transaction():
                conn.rollback()
            if self.created:
                self.target.drop_table(conn, self.ref)
            else:
                self.target.drop_columns(conn, self.ref, self.added)
            conn.commit()

    def log_failure(self, conn: sa.Connection, error: BaseException) -> None:
        self.result.status = "failed"
        self.result.error = str(error)
        self.result.finished_at = utcnow()
        self.result.inserted = self.result.updated = self.result.deleted = 0
        self.result.closed = self.result.unchanged = 0
        self.result.watermark_after = self.result.watermark_before
        if isinstance(error, LoaderError):
            error.result = self.result  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                self.state.log(conn, self.result)

    # ------------------------------------------------------------------ inside the transaction
    def in_transaction(self, conn: sa.Connection, source: Any, plan: bool) -> None:
        spec, cursor = self.spec, self.spec.cursor_column
        watermark = self.state.read_watermark(conn, self.mart) if cursor else None
        self.result.watermark_before = self.result.watermark_after = watermark
        bound = None if self.window else self.lower_bound(watermark)
        reader = self.open_source(source, Pushdown(cursor, bound) if cursor and bound is not None else None)
        reader = self.typed_nulls(conn, reader)
        staged = self.target.stage(conn, reader, f"_loaders_stage_{self.run_id[:8]}")
        table, table_columns, columns = self.prepare_table(conn, staged)
        if self.window:
            staged, self.window = batch_rules.keep_window(
                conn, self.target, staged, self.window_column(), self.window, self.mart
            )
        rules = batch_rules.BatchRules(self.mart, spec.keys, cursor, self.strategy.dedupe_column())
        batch, rows = batch_rules.prepare(conn, self.target, staged, rules, bound)
        ctx = LoadContext(
            mart=self.mart,
            spec=spec,
            conn=conn,
            target=self.target,
            table=table,
            table_columns=table_columns,
            batch=batch,
            rows=rows,
            columns=columns,
            watermark=watermark,
            run_time=self.run_time,
            window=self.window,
        )
        self.strategy.validate(ctx)
        checks = spec.checks
        table_nulls = health.before_load(ctx, checks) if checks else {}
        counts = self.strategy.load(ctx)
        if cursor:
            self.advance_watermark(conn, batch, cursor, watermark)
        self.finish(counts, rows)
        if checks:
            self.run_checks(conn, ctx, checks, table_nulls)
        self.state.log(conn, self.result)
        for temp in {staged.table.name: staged.table, batch.name: batch}.values():
            self.target.drop_temp(conn, temp)

    def run_checks(
        self, conn: sa.Connection, ctx: LoadContext[Any], checks: Checks, table_nulls: dict[str, float | None]
    ) -> None:
        """Evaluate the mart's health checks; a failure raises, and so rolls the whole load back."""
        history = [r for r in self.state.history(conn, self.mart, limit=50) if r["status"] == "success"]
        results = health.evaluate(ctx, checks, history, table_nulls)
        self.result.checks = [r.to_dict() for r in results]
        failed = [r for r in results if r.status == "fail"]
        if failed:
            raise health.HealthCheckError(
                "health check failed: " + "; ".join(f"{r.name}: {r.detail}" for r in failed), mart=self.mart
            )

    def typed_nulls(self, conn: sa.Connection, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """A column that is all NULL in this batch (Arrow type ``null``, common from JSON, CSV and
        Python rows) takes the type of the existing target column, so it stages as that type."""
        nulls = [f.name for f in reader.schema if pa.types.is_null(f.type)]
        existing = {c.name: c for c in self.target.describe_table(conn, self.ref) or []} if nulls else {}
        types = {n: arrow_type(existing[n]) for n in nulls if n in existing}
        if not types:
            return reader
        schema = pa.schema([pa.field(f.name, types.get(f.name, f.type)) for f in reader.schema])
        batches = (
            pa.RecordBatch.from_arrays([c.cast(schema.field(i).type) for i, c in enumerate(b.columns)], schema=schema)
            for b in reader
        )
        return pa.RecordBatchReader.from_batches(schema, batches)

    def window_column(self) -> str:
        column = self.spec.cursor_column or getattr(self.spec, "partition_by", None)
        if not column or self.spec.strategy == "cdc":
            raise SpecError(
                f"--from/--to reloads a window of a cursor or partition_by column; strategy "
                f"{self.spec.strategy!r} {'replays its feed from the watermark instead' if column else 'has none'}",
                mart=self.mart,
            )
        return column

    def lower_bound(self, watermark: Any) -> Any:
        """Rows must be past this: the watermark, less the look-back if one is set."""
        lookback = getattr(self.spec, "lookback", None)
        if watermark is None or lookback is None:
            return watermark
        if isinstance(watermark, (datetime, date)) != isinstance(lookback, timedelta):
            raise SpecError(
                f"lookback {lookback!r} does not fit cursor "
                f"{self.spec.cursor_column!r} holding {type(watermark).__name__} values; "
                "use an interval for time cursors and a number for numeric ones",
                mart=self.mart,
            )
        if isinstance(watermark, date) and not isinstance(watermark, datetime):
            return watermark - timedelta(days=lookback.days)  # type: ignore[union-attr]
        return watermark - lookback

    def open_source(self, source: Any, pushdown: Pushdown | None) -> pa.RecordBatchReader:
        try:
            reader = source.read(pushdown)
        except LoaderError as e:
            if e.mart is None:
                raise type(e)(str(e), mart=self.mart) from None
            raise
        except (OSError, pa.ArrowException) as e:
            raise SourceError(f"cannot read {source.describe()}: {e}", mart=self.mart) from None
        names = reader.schema.names
        for role, cols in self.required().items():
            missing = [c for c in cols if c not in names]
            if missing:
                raise DataContractError(
                    f"{role} column {missing[0]!r} is not in the source; source columns: {', '.join(names)}",
                    mart=self.mart,
                )
        return reader

    def required(self) -> dict[str, list[str]]:
        s = self.spec
        roles = {
            "key": s.keys,
            "cursor": [s.cursor_column] if s.cursor_column else [],
            "dedupe_by": [s.dedupe_by] if s.dedupe_by else [],
        }
        roles["required"] = [c for c in self.strategy.required_columns() if c not in sum(roles.values(), [])]
        return roles

    # ------------------------------------------------------------------ the target table
    def prepare_table(self, conn: sa.Connection, staged: Staged) -> tuple[sa.Table, dict[str, Column], list[str]]:
        source = {c.name: c for c in staged.columns}
        columns = self.strategy.landing_columns(list(source))
        managed = self.strategy.managed_columns(source)
        clash = [m.name for m in managed if m.name in columns]
        if clash:
            raise DataContractError(
                f"source column {clash[0]!r} has the name of a column {self.spec.strategy} manages; "
                "rename it in the source or choose another name in the spec",
                mart=self.mart,
            )
        existing = self.target.describe_table(conn, self.ref)
        if existing is None:
            wanted = [source[c] for c in columns] + managed
            self.target.create_table(conn, self.ref, wanted, keys=self.spec.keys, unique=self.strategy.unique_keys)
            self.created = True
            have = {c.name: c for c in wanted}
        else:
            have = {c.name: c for c in existing}
            if self.check_schema(conn, source, columns, managed, have):
                have = {c.name: c for c in self.target.describe_table(conn, self.ref) or existing}
        return self.target.sa_table(self.ref, list(have.values())), have, columns

    def check_schema(
        self,
        conn: sa.Connection,
        source: dict[str, Column],
        columns: list[str],
        managed: list[Column],
        have: dict[str, Column],
    ) -> bool:
        """Fail on columns that do not fit; add new ones if allowed. True if the table changed."""
        lacking = [m.name for m in managed if m.name not in have]
        if lacking:
            raise SchemaChangeError(
                f"table {self.ref} exists but has no column {lacking[0]!r}, which {self.spec.strategy} "
                "needs; was it created by another strategy?",
                mart=self.mart,
            )
        for name in columns:
            if name in have and not fits(source[name].family, have[name].family):
                raise SchemaChangeError(
                    f"column {name!r}: source type {source[name].type.compile(self.target.dialect)} "
                    f"({source[name].family}) cannot go into target column of type "
                    f"{have[name].type.compile(self.target.dialect)} ({have[name].family})",
                    mart=self.mart,
                )
        new = [c for c in columns if c not in have]
        if new and self.spec.schema_change == "fail":
            raise SchemaChangeError(
                f"source has new columns {', '.join(map(repr, new))} that table {self.ref} lacks; "
                "set `schema_change: add_columns` to add them",
                mart=self.mart,
            )
        if new:
            self.target.add_columns(conn, self.ref, [source[c] for c in new])
            self.added = new
        return bool(new)

    # ------------------------------------------------------------------ state
    def advance_watermark(self, conn: sa.Connection, batch: sa.Table, cursor: str, before: Any) -> None:
        newest = conn.execute(sa.select(sa.func.max(batch.c[cursor]))).scalar()
        after = before if newest is None or (before is not None and newest <= before) else newest
        self.result.watermark_after = after
        if after is not None and after != before:
            self.state.write_watermark(conn, self.mart, str(self.ref), cursor, after, utcnow())

    def finish(self, counts: Counts, rows: int) -> None:
        r = self.result
        r.inserted, r.updated, r.deleted = counts.inserted, counts.updated, counts.deleted
        r.closed, r.unchanged, r.rows_in = counts.closed, counts.unchanged, rows
        r.status, r.finished_at = "success", utcnow()
