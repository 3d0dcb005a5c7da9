"""Watermarks and the run log, kept in the target itself.

They are written on the load's own connection inside its transaction, so the data and the
watermark commit or roll back together: a watermark can never run ahead of (or behind) its rows.
A failed run is logged afterwards in a transaction of its own, adding a row and changing no past one.
"""

from __future__ import annotations

import decimal
import json
import time
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders.errors import SpecError
from loaders.result import LoadResult, utcnow
from loaders.targets.columns import Column, TableRef, sa_family

if TYPE_CHECKING:
    from loaders.targets.base import Target

WATERMARKS = "_loaders_watermarks"
RUNS = "_loaders_runs"
BATCHES = "_loaders_batches"


def _tables(schema: str | None, timestamp: Any = None) -> tuple[sa.Table, sa.Table]:
    """The state tables. ``timestamp`` is the adapter's microsecond timestamp type, so the order of
    runs within one second (and so "the last N runs" of the health checks) is kept on every engine."""
    stamp = timestamp if timestamp is not None else sa.DateTime()
    md = sa.MetaData()
    watermarks = sa.Table(
        WATERMARKS,
        md,
        sa.Column("mart", sa.String(255), primary_key=True),
        sa.Column("target_table", sa.String(512)),
        sa.Column("cursor_column", sa.String(255)),
        sa.Column("value", sa.Text),
        sa.Column("value_type", sa.String(32)),
        sa.Column("updated_at", stamp),
        schema=schema,
    )
    runs = sa.Table(
        RUNS,
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("mart", sa.String(255)),
        sa.Column("strategy", sa.String(32)),
        sa.Column("target_table", sa.String(512)),
        sa.Column("started_at", stamp),
        sa.Column("finished_at", stamp),
        sa.Column("status", sa.String(16)),
        sa.Column("rows_in", sa.BigInteger),
        sa.Column("inserted", sa.BigInteger),
        sa.Column("updated", sa.BigInteger),
        sa.Column("deleted", sa.BigInteger),
        sa.Column("closed", sa.BigInteger),
        sa.Column("unchanged", sa.BigInteger),
        sa.Column("watermark_before", sa.Text),
        sa.Column("watermark_after", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("batch_key", sa.String(512)),
        sa.Column("checks", sa.Text),
        schema=schema,
    )
    return watermarks, runs


#: (schema, timestamp type) -> the three state tables: built once per process, not per load (building
#: them was a tenth of a tiny load's time)
_STATE_TABLES: dict[tuple[str | None, str], tuple[sa.Table, sa.Table, sa.Table]] = {}


def _state_tables(schema: str | None, timestamp: Any) -> tuple[sa.Table, sa.Table, sa.Table]:
    key = (schema, repr(timestamp))
    if key not in _STATE_TABLES:
        watermarks, runs = _tables(schema, timestamp)
        #: one row per applied batch key: its primary key lets only one run of a batch commit
        batches = sa.Table(
            BATCHES,
            runs.metadata,
            sa.Column("mart", sa.String(255), primary_key=True),
            sa.Column("batch_key", sa.String(500), primary_key=True),
            sa.Column("run_id", sa.String(36)),
            schema=schema,
        )
        _STATE_TABLES[key] = (watermarks, runs, batches)
    return _STATE_TABLES[key]


class State:
    """Access to one target's state tables."""

    def __init__(self, target: Target, schema: str | None = None) -> None:
        self.target = target
        self.schema = schema
        self.watermarks, self.runs, self.batches = _state_tables(schema, target.timestamp_type())

    def ensure(self, conn: sa.Connection) -> None:
        """Create the state tables if missing (committed one by one, before the load's transaction);
        checked once per target and schema in a process.

        Several first runs may race to create them (different marts hold different locks): a create
        that fails because another process created the table a moment before is checked again."""
        if ("state", self.schema) in self.target.checked:
            return
        for table in (self.watermarks, self.runs, self.batches):
            for attempt in (1, 2, 3):
                try:
                    self._create_or_extend(conn, table)
                    conn.commit()
                    break
                except sa.exc.DBAPIError:
                    conn.rollback()
                    if attempt == 3:
                        raise
                    time.sleep(0.05 * attempt)
        self.target.checked.add(("state", self.schema))

    def _create_or_extend(self, conn: sa.Connection, table: sa.Table) -> None:
        ref = TableRef(table.name, self.schema)
        existing = self.target.describe_table(conn, ref)
        if existing is None:
            self.target.ensure_schema(conn, self.schema)
            conn.execute(sa.schema.CreateTable(table))
            return
        # state tables written by an older loaders: add the columns this version records
        have = {c.name for c in existing}
        missing = [Column(c.name, c.type, sa_family(c.type)) for c in table.columns if c.name not in have]
        if missing:
            self.target.add_columns(conn, ref, missing)

    def exists(self, conn: sa.Connection) -> bool:
        return self.target.describe_table(conn, TableRef(RUNS, self.schema)) is not None

    # ------------------------------------------------------------------ watermarks
    def read_watermark(self, conn: sa.Connection, mart: str, cursor: str | None = None) -> Any:
        """The mart's watermark. Given the cursor the mart has now, a watermark kept for another cursor
        column is refused: compared with the new column it would skip rows or fail as a type error."""
        w = self.watermarks
        row = conn.execute(sa.select(w.c.value, w.c.value_type, w.c.cursor_column).where(w.c.mart == mart)).first()
        if row is None:
            return None
        if cursor is not None and row[2] is not None and row[2] != cursor:
            raise SpecError(
                f"the stored watermark is for cursor column {row[2]!r}, and the mart's cursor is now {cursor!r}; "
                f"run `loaders reset-watermark` for it (the next load then starts from the beginning)",
                mart=mart,
            )
        return decode(row[0], row[1])

    def write_watermark(
        self, conn: sa.Connection, mart: str, table: str, column: str, value: Any, now: datetime
    ) -> None:
        text, kind = encode(value)
        conn.execute(sa.delete(self.watermarks).where(self.watermarks.c.mart == mart))
        conn.execute(
            sa.insert(self.watermarks).values(
                mart=mart, target_table=table, cursor_column=column, value=text, value_type=kind, updated_at=now
            )
        )

    def clear_watermark(self, conn: sa.Connection, mart: str) -> None:
        conn.execute(sa.delete(self.watermarks).where(self.watermarks.c.mart == mart))

    # ------------------------------------------------------------------ run log
    def log(self, conn: sa.Connection, result: LoadResult) -> None:
        conn.execute(
            sa.insert(self.runs).values(
                run_id=result.run_id,
                mart=result.mart,
                strategy=result.strategy,
                target_table=result.table,
                started_at=_naive(result.started_at),
                finished_at=_naive(result.finished_at),
                status=result.status,
                rows_in=result.rows_in,
                inserted=result.inserted,
                updated=result.updated,
                deleted=result.deleted,
                closed=result.closed,
                unchanged=result.unchanged,
                watermark_before=encode(result.watermark_before)[0],
                watermark_after=encode(result.watermark_after)[0],
                error=result.error,
                batch_key=result.batch_key,
                checks=json.dumps(result.checks) if result.checks else None,
            )
        )

    def claim(self, conn: sa.Connection, mart: str, batch_key: str, run_id: str) -> None:
        """Record, inside the load's transaction, that this run applies the batch: a concurrent run of
        the same batch cannot commit too (the primary key stops it, on every engine)."""
        conn.execute(sa.insert(self.batches).values(mart=mart, batch_key=batch_key, run_id=run_id))

    def applied(self, conn: sa.Connection, mart: str, batch_key: str) -> dict[str, Any] | None:
        """The successful run that already applied this batch, if any."""
        row = conn.execute(
            sa.select(self.runs.c.run_id, self.runs.c.watermark_after)
            .where(self.runs.c.mart == mart, self.runs.c.batch_key == batch_key, self.runs.c.status == "success")
            .limit(1)
        ).first()
        return None if row is None else dict(row._mapping)

    def history(self, conn: sa.Connection, mart: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if not self.exists(conn):
            return []
        query = sa.select(self.runs).order_by(self.runs.c.started_at.desc()).limit(limit)
        if mart:
            query = query.where(self.runs.c.mart == mart)
        return [dict(r._mapping) for r in conn.execute(query)]


# ---------------------------------------------------------------------- watermark maths (pure)
def minus_lookback(watermark: Any, lookback: Any, cursor: str | None) -> Any:
    """The watermark less a look-back; a date cursor moves back whole days."""
    if watermark is None or lookback is None:
        return watermark
    if isinstance(watermark, (datetime, date)) != isinstance(lookback, timedelta):
        raise SpecError(
            f"lookback {lookback!r} does not fit cursor {cursor!r} holding {type(watermark).__name__} values; "
            "use an interval for time cursors and a number for numeric ones"
        )
    if isinstance(watermark, date) and not isinstance(watermark, datetime):
        return watermark - timedelta(days=lookback.days)
    return watermark - lookback


def advanced(before: Any, newest: Any) -> Any:
    """The watermark after a load: the batch's newest cursor value, never moving back."""
    return before if newest is None or (before is not None and newest <= before) else newest


def _naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None) if ts.tzinfo else ts


def encode(value: Any) -> tuple[str | None, str | None]:
    """A watermark as text plus its kind, so it comes back as the same Python type."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return json.dumps(value), "bool"
    if isinstance(value, datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, date):
        return value.isoformat(), "date"
    if isinstance(value, int):
        return str(value), "int"
    if isinstance(value, float):
        return repr(value), "float"
    if isinstance(value, decimal.Decimal):
        return str(value), "decimal"
    return str(value), "str"


def decode(text: str | None, kind: str | None) -> Any:
    if text is None:
        return None
    parsers: dict[str, Any] = {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "int": int,
        "float": float,
        "decimal": decimal.Decimal,
        "bool": json.loads,
    }
    return parsers.get(kind or "str", str)(text)


def reset_watermark(target: Target, project: Any, mart: str, value: str | None) -> tuple[Any, Any]:
    """Clear or set a mart's watermark and log a ``reset`` run, in one transaction."""
    spec = project.marts[mart]
    state = State(target, project.state_schema)
    with target.connect() as conn, target.lock(conn, mart), target.translate_errors(mart):
        state.ensure(conn)
        conn.commit()
        with conn.begin():
            before = state.read_watermark(conn, mart)
            after = _like(value, before) if value is not None else None
            if after is None:
                state.clear_watermark(conn, mart)
            else:
                state.write_watermark(conn, mart, spec.table or mart, spec.cursor_column, after, utcnow())
            now = utcnow()
            state.log(
                conn,
                LoadResult(
                    mart=mart,
                    strategy=spec.strategy,
                    table=spec.table or mart,
                    status="reset",
                    run_id=str(uuid.uuid4()),
                    started_at=now,
                    finished_at=now,
                    watermark_before=before,
                    watermark_after=after,
                    error="watermark reset by hand",
                ),
            )
    return before, after


def _like(value: str, example: Any) -> Any:
    """A typed watermark from text, shaped like the current one (or guessed when there is none)."""
    if example is not None:
        return decode(value, encode(example)[1])
    for parse in (int, float, datetime.fromisoformat):
        try:
            return parse(value)
        except ValueError:
            continue
    return value
