"""What a load returns: counts a data engineer checks, the watermark, and the SQL when planning."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Counts:
    """Rows a strategy changed. ``closed`` is SCD2 versions closed by a change."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    closed: int = 0
    unchanged: int = 0


@dataclass
class LoadResult:
    mart: str
    strategy: str
    table: str
    status: str  # "success" | "failed" | "planned" | "skipped"
    run_id: str
    started_at: datetime
    finished_at: datetime
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    closed: int = 0
    unchanged: int = 0
    watermark_before: Any = None
    watermark_after: Any = None
    error: str | None = None
    #: the caller's name for this batch (an Airflow task instance); a key already applied is skipped
    batch_key: str | None = None
    #: health checks: [{"name", "status": pass|warn|fail, "detail"}]
    checks: list[dict[str, str]] = field(default_factory=list)
    #: statements the load ran (filled by ``plan``)
    sql: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly (for XCom and --json): datetimes and watermarks as ISO strings."""
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        for k, v in out.items():
            if hasattr(v, "isoformat"):
                out[k] = v.isoformat()
            elif v is not None and not isinstance(v, (int, float, str, list, bool)):
                out[k] = str(v)
        return out
