"""spec -> source -> stage -> strategy -> state, in one transaction; returns a LoadResult.

The CLI, the Python loader classes and the Airflow operator all call :func:`load_mart`; none of them
contains load logic. :meth:`_Load.apply` reads top to bottom as the load's steps. A failure rolls back
the data and the watermark together, then adds one ``failed`` row to the run log in a transaction of
its own.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from loaders import batch as batches
from loaders import health, state, table
from loaders.errors import LoaderError, SpecError, first_line
from loaders.project import Project, mart_order
from loaders.result import LoadResult, utcnow
from loaders.schedule import run_in_order
from loaders.sources import FileSource, Pushdown, QuerySource, as_source
from loaders.spec import MartBase
from loaders.strategies import LoadContext, Strategy, for_spec
from loaders.targets import TableRef, Target, open_target
from loaders.targets.columns import INTROSPECTING, NULL
from loaders.urls import resolve_url, same_database

log = logging.getLogger("loaders")


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
    if strategy is None:
        strategy = for_spec(spec)
    elif strategy.spec is not spec:  # the caller changed the spec (table, source URL): load with that one
        strategy = type(strategy)(spec)
    tgt = open_target(resolve_url(target, base_dir)) if isinstance(target, str) else target
    try:
        src = as_source(source if source is not None else spec.source, base_dir, mart=mart)
        load = _Load(mart, strategy, tgt, run_time or utcnow(), state.State(tgt, state_schema), batch_key)
        if window is not None:
            load.window = window
            strategy.window_column()  # a strategy without one refuses before anything runs
        return load.run(src, plan=plan)
    except LoaderError as e:
        if e.mart:
            raise
        raise e.for_mart(mart) from None
    finally:
        if tgt is not target:
            tgt.close()


def run_project(
    project: Project,
    marts: list[str] | None = None,
    *,
    plan: bool = False,
    run_time: datetime | None = None,
    on_result: Callable[[str, LoadResult | LoaderError], None] | None = None,
    window: tuple[Any, Any] | None = None,
    jobs: int = 1,
) -> list[LoadResult | LoaderError]:
    """Load the marts of a marts file (or the named ones) into its target, each after those it depends on,
    up to ``jobs`` at a time (one at a time on a single-writer file such as DuckDB's).

    A failed mart does not stop the others; its error is returned in its place.
    """
    unknown = [n for n in marts or [] if n not in project.marts]
    if unknown:
        raise SpecError(
            f"no mart named {', '.join(map(repr, unknown))}; marts in this file: {', '.join(project.marts)}"
        )
    names = [n for n in mart_order(dict(project.marts)) if not marts or n in marts]
    target = open_target(resolve_url(project.target, project.base_dir))

    failed: set[str] = set()

    def one(name: str) -> LoadResult | LoaderError:
        upstream = [d for d in project.marts[name].depends_on if d in failed]
        if upstream:  # as Airflow's upstream_failed: built on a failed load, it would be wrong or stale
            return LoaderError(f"not loaded: it depends on {', '.join(upstream)}, which failed", mart=name)
        try:
            return load_mart(
                name, project.marts[name], target, base_dir=project.base_dir, plan=plan, run_time=run_time,
                state_schema=project.state_schema, window=window,
            )  # fmt: skip
        except LoaderError as e:
            return e

    try:
        deps = {n: list(project.marts[n].depends_on) for n in names}

        def report(name: str, outcome: LoadResult | LoaderError) -> None:
            if isinstance(outcome, LoaderError):
                failed.add(name)  # before any mart that depends on it starts
            if on_result is not None:
                on_result(name, outcome)

        if target.single_writer:  # one writer at a time anyway: open the file once for the run
            with contextlib.ExitStack() as held:
                if len(names) > 1:
                    held.enter_context(target.held())
                outcomes = run_in_order(deps, one, 1, report)
        else:
            outcomes = run_in_order(deps, one, jobs, report)
    finally:
        target.close()
    return [outcomes[n] for n in names]


@contextlib.contextmanager
def capture_sql(conn: sa.Connection) -> Iterator[list[str]]:
    """Every statement the load executes on ``conn``, except those a target marks as introspection."""
    statements: list[str] = []

    def record(conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        if not conn.info.get(INTROSPECTING):
            statements.append(statement.strip())

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)


class _Rollback(Exception):
    """Raised inside the transaction of a plan so nothing it did is kept."""


class _Load:
    """One run of one mart: the steps, and the result they fill in."""

    def __init__(
        self, mart: str, strategy: Strategy[Any], target: Target, run_time: datetime, state: state.State, key: Any
    ) -> None:
        self.mart, self.strategy, self.spec, self.target = mart, strategy, strategy.spec, target
        self.run_time, self.state = run_time, state
        self.ref = TableRef.parse(self.spec.table or mart)
        #: backfill: reload [from, to) of the window column instead of reading past the watermark
        self.window: tuple[Any, Any] | None = None
        self.undo = table.DdlUndo(target, self.ref)
        #: the write transaction is open (see :meth:`writes`); a plan claims no batch
        self.writing, self.plan = False, False
        now = utcnow()
        self.result = LoadResult(
            mart=mart, strategy=self.spec.strategy, table=str(self.ref), status="running",
            run_id=str(uuid.uuid4()), started_at=now, finished_at=now, batch_key=key,
        )  # fmt: skip

    def run(self, source: Any, plan: bool) -> LoadResult:
        with self.target.connect() as conn, self.target.lock(conn, self.mart, str(self.ref)):
            with self.target.translate_errors(self.mart):
                self.state.ensure(conn)
            with contextlib.ExitStack() as stack:
                statements = stack.enter_context(capture_sql(conn)) if plan else []
                self.plan = plan
                try:
                    with self.target.translate_errors(self.mart), conn.begin():
                        # inside the load's transaction, so a concurrent run of the same batch that
                        # committed first is seen (engines without a mart lock serialise on the claim)
                        if self.result.batch_key and not plan and self.skip_if_applied(conn):
                            return self.result
                        self.apply(conn, source)
                        if plan:
                            raise _Rollback
                    self.tell_source(source)
                except _Rollback:
                    self.result.status, self.result.sql = "planned", statements
                    self.end_writes(conn)
                    self.undo.undo(conn, self.mart)
                except Exception as e:  # an unexpected bug, too, leaves the target unchanged and logged
                    self.end_writes(conn)
                    self.undo.undo(conn, self.mart)
                    if self.applied_concurrently(conn):
                        return self.result
                    self.log_failure(conn, e)
                    raise
                else:
                    self.end_writes(conn)
        return self.result

    def writes(self, conn: sa.Connection) -> None:
        """Before the load's first durable write: the adapter opens its write transaction, and the
        batch is claimed in it. Everything before (staging, DDL, checks) only reads or makes temp
        tables, so warehouses whose DDL commits (Snowflake) or is refused in a transaction
        (BigQuery, Databricks) run it outside, and the data, watermark and run log still commit together."""
        if self.writing:
            return
        self.writing = True
        self.target.begin_writes(conn)
        if self.result.batch_key and not self.plan:
            self.state.claim(conn, self.mart, self.result.batch_key, self.result.run_id)

    def end_writes(self, conn: sa.Connection) -> None:
        with contextlib.suppress(Exception), self.target.translate_errors(self.mart):
            self.target.end_writes(conn)

    def tell_source(self, source: Any) -> None:
        """After the commit: a change feed may now forget what was loaded (a replication slot moves
        on). If that fails the load still stands; the feed sends the changes again and the next run
        skips them by the watermark."""
        committed = getattr(source, "committed", None)
        if committed is None:
            return
        try:
            committed()
        except Exception as e:  # noqa: BLE001 - the target has committed; nothing to undo
            log.warning("mart %s: loaded, but the source was not told: %s", self.mart, first_line(e))

    def skip_if_applied(self, conn: sa.Connection) -> bool:
        """A batch key already applied by a successful run: log a ``skipped`` run and load nothing."""
        earlier = self.state.applied(conn, self.mart, self.result.batch_key or "")
        if earlier is None:
            return False
        r = self.result
        r.status, r.finished_at = "skipped", utcnow()
        r.error = f"batch {r.batch_key} was already applied by run {earlier['run_id']}"
        r.watermark_before = r.watermark_after = earlier["watermark_after"]
        self.state.log(conn, r)  # committed by the caller
        return True

    def applied_concurrently(self, conn: sa.Connection) -> bool:
        """A run of the same batch committed while this one ran (its claim stopped this one): skipped."""
        if not self.result.batch_key or self.result.status == "planned":
            return False
        with contextlib.suppress(Exception):
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                return self.skip_if_applied(conn)
        return False

    def log_failure(self, conn: sa.Connection, error: BaseException) -> None:
        """The failed run's row, in a transaction of its own after the rollback; no counts, no new watermark."""
        r = self.result
        r.status, r.error, r.finished_at = "failed", str(error), utcnow()
        r.inserted = r.updated = r.deleted = r.closed = r.unchanged = 0
        r.watermark_after = r.watermark_before
        with contextlib.suppress(Exception):
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                self.state.log(conn, r)

    def apply(self, conn: sa.Connection, source: Any) -> None:
        """The load's steps, inside its transaction."""
        spec, mart, target, cursor = self.spec, self.mart, self.target, self.spec.cursor_column
        watermark = self.state.read_watermark(conn, mart, cursor) if cursor else None
        self.result.watermark_before = self.result.watermark_after = watermark
        bound = None if self.window else self.strategy.lower_bound(watermark)
        inclusive = self.strategy.keeps_rows_at_watermark()
        pushdown = Pushdown(cursor, bound, inclusive) if cursor and bound is not None else None
        stage = f"_loaders_stage_{self.result.run_id[:8]}"
        in_target = self.in_target_sql(conn, source, pushdown)
        if in_target is not None:
            staged = batches.stage_in_target(conn, target, in_target, source, self.strategy, stage, mart)
        else:
            reader = batches.open_source(source, pushdown, self.strategy, mart)
            reader = table.typed_nulls(conn, target, self.ref, reader)
            staged = target.stage(conn, reader, stage, spec.keys)
        tt = table.prepare(conn, self.strategy, staged, self.undo, mart)
        if self.window:
            column = self.strategy.window_column()
            staged, self.window = batches.keep_window(conn, target, staged, column, self.window, mart)
        rules = batches.BatchRules(
            mart,
            spec.keys,
            cursor,
            self.strategy.dedupe_column(),
            self.strategy.stale,
            self.strategy.keyless,
            self.strategy.batch_unique(),
        )
        batch, rows = batches.prepare(conn, target, staged, rules, bound)
        batches.refuse_empty_snapshot(conn, self.strategy, tt.table, rows, mart)
        ctx = LoadContext(
            mart=mart, spec=spec, conn=conn, target=target, table=tt.table, table_columns=tt.columns,
            batch=batch, rows=rows, columns=tt.landing, watermark=watermark, run_time=self.run_time,
            window=self.window, before_write=lambda: self.writes(conn),
        )  # fmt: skip
        self.strategy.validate(ctx)
        table_nulls = health.before_load(ctx, spec.checks) if spec.checks else {}
        self.result.count(self.strategy.load(ctx))
        self.result.rows_in, self.result.status, self.result.finished_at = rows, "success", utcnow()
        self.writes(conn)  # a load that changed no row still moves its watermark and logs its run
        if cursor:
            self.advance_watermark(conn, batch, cursor, watermark)
        if spec.checks:
            self.run_checks(conn, ctx, table_nulls)
        self.state.log(conn, self.result)
        if not self.plan:  # a plan's transaction is rolled back (on warehouses by end_writes)
            target.commit_writes(conn)
        for temp in {staged.table.name: staged.table, batch.name: batch}.values():
            target.drop_temp(conn, temp)

    def in_target_sql(
        self, conn: sa.Connection, source: Any, pushdown: Pushdown | None
    ) -> tuple[str, dict[str, Any]] | None:
        """The batch as SQL the target runs itself, when it can: a query source without a URL (or with
        the target's own database), or files the engine reads in place (DuckDB and Parquet without an
        all-NULL column, which a streamed batch types from the target table). None: the source is
        read here and staged as Arrow."""
        if isinstance(source, QuerySource):
            if source.url is not None and same_database(source.url, self.target.url):
                source.in_target = True
            return source.sql(pushdown, self.target.dialect) if source.in_target else None
        formats = self.target.reads_files_in_place
        if formats and type(source) is FileSource and (fmt := source.in_place_format()) in formats:
            with batches.read_by_target(self.target, source, self.mart):
                columns = self.target.describe_files(conn, source.files(), fmt)
            if any(c.family == NULL for c in columns):
                return None
            reader = self.target.read_files_sql(source.files(), fmt)
            return source.sql_over(reader, pushdown, self.target.dialect, columns)
        return None

    def advance_watermark(self, conn: sa.Connection, batch: sa.Table, cursor: str, before: Any) -> None:
        newest = conn.execute(sa.select(sa.func.max(batch.c[cursor]))).scalar()
        after = self.result.watermark_after = state.advanced(before, newest)
        if after is not None and after != before:
            self.state.write_watermark(conn, self.mart, str(self.ref), cursor, after, utcnow())

    def run_checks(self, conn: sa.Connection, ctx: LoadContext[Any], table_nulls: dict[str, float | None]) -> None:
        """Evaluate the mart's health checks; a failure raises, and so rolls the whole load back."""
        checks = self.spec.checks
        assert checks is not None
        history = [r for r in self.state.history(conn, self.mart, limit=50) if r["status"] == "success"]
        current = self.strategy.current_rows(ctx.table)
        results = health.evaluate(ctx, checks, history, table_nulls, current)
        self.result.checks = [r.to_dict() for r in results]
        failed = [r for r in results if r.status == "fail"]
        if failed:
            raise health.HealthCheckError(
                "health check failed: " + "; ".join(f"{r.name}: {r.detail}" for r in failed), mart=self.mart
            )
