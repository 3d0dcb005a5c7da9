"""Load health checks: is this batch plausible, and is the table healthy after it?

They run inside the load's transaction, so a failing check (``on_failure: fail``) rolls the load back
like any other error and the run log records why; with ``on_failure: warn`` the load is kept and the
run log and result carry the warning. Checks catch the incidents a schema cannot: a source that stops
delivering, a column that turns NULL, a table that stops being fresh, keys that start repeating.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from loaders.errors import DataContractError
from loaders.spec import Checks
from loaders.strategies.base import LoadContext


class HealthCheckError(DataContractError):
    """A load health check failed; the load was rolled back."""


@dataclass
class CheckResult:
    name: str
    status: str  # "pass" | "fail" | "warn"
    detail: str
    #: what was measured (rows, rows per window), kept in the run log for later runs to compare with
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def null_rates(conn: sa.Connection, table: sa.Table, columns: list[str]) -> dict[str, float | None]:
    """Share of NULLs per column (None when the table is empty), in one scan."""
    total = sa.func.count()
    nulls = [sa.func.sum(sa.case((table.c[c].is_(None), 1), else_=0)) for c in columns]
    row = conn.execute(sa.select(total, *nulls).select_from(table)).one()
    if not row[0]:
        return dict.fromkeys(columns)
    return {c: float(row[i + 1] or 0) / row[0] for i, c in enumerate(columns)}


def null_columns(ctx: LoadContext[Any], checks: Checks) -> list[str]:
    assert checks.null_rate is not None
    wanted = checks.null_rate.columns or [c for c in ctx.columns if c not in ctx.spec.keys]
    return [c for c in wanted if c in ctx.batch.c and c in ctx.table.c]


def before_load(ctx: LoadContext[Any], checks: Checks) -> dict[str, float | None]:
    """What must be measured before the strategy changes the table: its NULL shares."""
    return null_rates(ctx.conn, ctx.table, null_columns(ctx, checks)) if checks.null_rate else {}


def evaluate(
    ctx: LoadContext[Any],
    checks: Checks,
    history: list[dict[str, Any]],
    table_nulls: dict[str, float | None],
    current: sa.Select[Any],
) -> list[CheckResult]:
    """Run every configured check; ``history`` is the mart's earlier successful runs, newest first, and
    ``current`` the table's current rows as the strategy defines them (e.g. SCD2's open versions)."""
    results: list[CheckResult] = []
    if checks.freshness:
        results.append(freshness(ctx, checks))
    if checks.volume:
        results.extend(volume(ctx, checks, history))
    if checks.null_rate:
        results.extend(null_rate(ctx, checks, table_nulls))
    if checks.unique_keys:
        results.append(unique_keys(ctx, current))
    if checks.on_failure == "warn":
        results = [CheckResult(r.name, "warn", r.detail) if r.status == "fail" else r for r in results]
    return results


def freshness(ctx: LoadContext[Any], checks: Checks) -> CheckResult:
    assert checks.freshness is not None
    column = checks.freshness.column or ctx.spec.cursor_column
    newest = ctx.scalar(sa.select(sa.func.max(ctx.table.c[column])))
    max_age = checks.freshness.max_age
    if not isinstance(max_age, timedelta):
        max_age = timedelta(seconds=float(max_age))
    if newest is None:
        return CheckResult("freshness", "fail", f"{column} has no values: the table is empty")
    now: datetime | date = ctx.run_time
    if isinstance(newest, datetime) and newest.tzinfo is not None:
        newest = newest.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(newest, str):  # an engine that keeps timestamps as text hands them back as strings
        newest = datetime.fromisoformat(newest)
    if not isinstance(newest, datetime) and isinstance(newest, date):
        now = ctx.run_time.date()
    age = now - newest  # type: ignore[operator]
    if age > max_age:
        return CheckResult(
            "freshness", "fail", f"newest {column} is {newest} ({_human(age)} old; at most {_human(max_age)} allowed)"
        )
    return CheckResult("freshness", "pass", f"newest {column} is {_human(age)} old")


def volume(ctx: LoadContext[Any], checks: Checks, history: list[dict[str, Any]]) -> list[CheckResult]:
    assert checks.volume is not None
    v, out = checks.volume, []
    measured, unit = float(ctx.rows), "rows"
    if v.per and ctx.rows:
        windows = ctx.scalar(sa.select(sa.func.count(sa.distinct(ctx.batch.c[v.per]))))
        measured, unit = ctx.rows / max(int(windows or 1), 1), f"rows per {v.per}"
    recent = [m for m in (_measured(r, "volume") for r in history[: v.runs]) if m is not None]
    if v.max_change is not None:
        if not recent:
            out.append(CheckResult("volume", "pass", f"{measured:g} {unit}; no earlier runs to compare with", measured))
        else:
            median = statistics.median(recent)
            change = abs(measured - median) / median if median else (0.0 if measured == 0 else float("inf"))
            status = "fail" if change > v.max_change else "pass"
            detail = (
                f"{measured:g} {unit} against a median of {median:g} over the last {len(recent)} runs "
                f"({change:.0%} off; at most {v.max_change:.0%})"
            )
            out.append(CheckResult("volume", status, detail, measured))
    if v.empty_runs is not None:
        streak = 0
        for n in [ctx.rows, *(int(r["rows_in"] or 0) for r in history)]:
            if n:
                break
            streak += 1
        status = "fail" if streak >= v.empty_runs else "pass"
        out.append(
            CheckResult(
                "empty_runs", status, f"{streak} runs in a row brought no rows (at most {v.empty_runs - 1} allowed)"
            )
        )
    return out


def null_rate(ctx: LoadContext[Any], checks: Checks, table_nulls: dict[str, float | None]) -> list[CheckResult]:
    assert checks.null_rate is not None
    columns = null_columns(ctx, checks)
    batch = null_rates(ctx.conn, ctx.batch, columns) if ctx.rows else {}
    out = []
    for c in columns:
        before, now = table_nulls.get(c), batch.get(c)
        if before is None or now is None:
            continue  # nothing to compare: an empty table or an empty batch
        jump = now - before
        status = "fail" if jump > checks.null_rate.max_increase else "pass"
        out.append(
            CheckResult(
                f"null_rate:{c}",
                status,
                f"{c} is {now:.0%} NULL in this batch against {before:.0%} "
                f"in the table (+{max(jump, 0):.0%}; at most +{checks.null_rate.max_increase:.0%})",
            )
        )
    return out


def unique_keys(ctx: LoadContext[Any], current: sa.Select[Any]) -> CheckResult:
    t, keys = current.subquery("current"), ctx.spec.keys
    dupes = sa.select(*(t.c[k] for k in keys)).group_by(*(t.c[k] for k in keys))
    count = ctx.scalar(sa.select(sa.func.count()).select_from(dupes.having(sa.func.count() > 1).subquery()))
    if count:
        return CheckResult(
            "unique_keys", "fail", f"{count} keys ({', '.join(keys)}) appear more than once in the table"
        )
    return CheckResult("unique_keys", "pass", f"keys ({', '.join(keys)}) are unique in the table")


def _measured(run: dict[str, Any], name: str) -> float | None:
    """A check's measured value in an earlier run's log row (rows_in for runs logged without checks)."""
    checks = json.loads(run.get("checks") or "[]")
    for check in checks:
        if check.get("name") == name and check.get("value") is not None:
            return float(check["value"])
    return float(run["rows_in"] or 0) if name == "volume" and not checks else None


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
