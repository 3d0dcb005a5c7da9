"""What a load returns: counts a data engineer checks, the watermark, and the SQL when planning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any


def utcnow() -> datetime:
    """Load times are naive UTC: every engine stores them the same way."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class Counts:
    """Rows a strategy changed. ``closed`` is SCD2 versions closed by a change."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    closed: int = 0
    unchanged: int = 0


@dataclass(kw_only=True)
class LoadResult(Counts):
    """One load's outcome: the strategy's counts plus what the run log records about it."""

    mart: str
    strategy: str
    table: str
    status: str  # "success" | "failed" | "planned" | "skipped" | "reset"
    run_id: str
    started_at: datetime
    finished_at: datetime
    rows_in: int = 0
    watermark_before: Any = None
    watermark_after: Any = None
    error: str | None = None
    #: the caller's name for this batch (an Airflow task instance); a key already applied is skipped
    batch_key: str | None = None
    #: health checks: [{"name", "status": pass|warn|fail, "detail", "value"}]
    checks: list[dict[str, Any]] = field(default_factory=list)
    #: statements the load ran (filled by ``plan``)
    sql: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def count(self, counts: Counts) -> None:
        """Take a strategy's counts."""
        for name in Counts.__dataclass_fields__:
            setattr(self, name, getattr(counts, name))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly (for XCom and --json): datetimes, dates and decimals as strings."""
        out: dict[str, Any] = _dump().dump_python(self, mode="json")
        out["seconds"] = round(self.seconds, 3)
        return out


@cache
def _dump() -> Any:
    """Built on first use: pydantic's adapter costs 0.06 s of every process's start-up otherwise, and a
    `loaders run` that prints no JSON never needs it."""
    from pydantic import TypeAdapter

    return TypeAdapter(LoadResult)
