"""Typed models of a mart: the one place a YAML key is defined.

A mart spec is a discriminated union on ``strategy``; each strategy has its own options model with
``extra="forbid"``, so a typo is an error that names the key and the valid ones.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from loaders.errors import SpecError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- sources
class FileSource(_Model):
    """Parquet, CSV or JSON-lines files; a glob or a folder reads every matching file."""

    path: str
    format: Literal["parquet", "csv", "jsonl"] | None = None


class QuerySource(_Model):
    """A query run on any SQLAlchemy URL; ``:watermark`` in the query is bound to the stored cursor."""

    query: str
    url: str


SourceSpec: TypeAlias = FileSource | QuerySource


# --------------------------------------------------------------------------- helpers
_UNITS = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
}  # fmt: skip


def parse_interval(value: Any) -> timedelta | int | float:
    """Accept '3 days', '6h', '1 day 12 hours', ISO 'P3D', a timedelta, or a plain number.

    A number is a look-back in the cursor's own units (for integer cursors such as an id or LSN).
    """
    if isinstance(value, (timedelta, int, float)) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an interval such as '3 days', got {value!r}")
    text = value.strip().lower()
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", text)
    if parts and re.fullmatch(r"(\s*\d+(?:\.\d+)?\s*[a-z]+\s*,?)+", text):
        kwargs: dict[str, float] = {}
        for number, unit in parts:
            if unit not in _UNITS:
                raise ValueError(f"unknown interval unit {unit!r} in {value!r}")
            kwargs[_UNITS[unit]] = kwargs.get(_UNITS[unit], 0) + float(number)
        return timedelta(**kwargs)
    try:
        return TypeAdapter(timedelta).validate_python(value)
    except ValidationError:
        raise ValueError(f"expected an interval such as '3 days' or 'P3D', got {value!r}") from None


Interval = Annotated[int | float | timedelta, Field(union_mode="left_to_right")]


# --------------------------------------------------------------------------- health checks
def _fraction(value: Any) -> Any:
    """'50%' or 0.5 -> 0.5."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1]) / 100
    return value


class FreshnessCheck(_Model):
    """The newest value of ``column`` in the table (after the load) is at most ``max_age`` old."""

    column: str | None = None  # default: the mart's cursor
    max_age: Interval

    @field_validator("max_age", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return parse_interval(value)


class VolumeCheck(_Model):
    """Rows in this batch against the median of the last ``runs`` successful runs."""

    max_change: float | None = Field(default=None, gt=0)  # e.g. 0.5 or "50%"
    runs: int = Field(default=7, ge=1)
    #: compare rows per distinct value of this column (e.g. a date), so a catch-up batch after an
    #: outage is not mistaken for a spike; default: rows per batch
    per: str | None = None
    #: fail when this many runs in a row (this one included) brought no rows
    empty_runs: int | None = Field(default=None, ge=1)

    @field_validator("max_change", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _fraction(value)


class NullRateCheck(_Model):
    """A column's share of NULLs in the batch may exceed its share in the table by at most this much."""

    columns: list[str] | None = None  # default: every non-key column of the batch
    max_increase: float = Field(default=0.2, gt=0, le=1)

    @field_validator("max_increase", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _fraction(value)


class Checks(_Model):
    """Load health checks, run inside the load's transaction and recorded in the run log."""

    freshness: FreshnessCheck | None = None
    volume: VolumeCheck | None = None
    null_rate: NullRateCheck | None = None
    #: the keys are unique in the table after the load (current versions for scd2)
    unique_keys: bool = False
    #: fail: a failed check fails the load (nothing is kept); warn: the load is kept, the run log says why
    on_failure: Literal["fail", "warn"] = "fail"


# --------------------------------------------------------------------------- marts
class MartBase(_Model):
    """Options every strategy shares."""

    strategy: str
    #: target table, optionally ``schema.table``; defaults to the mart's name
    table: str | None = None
    source: SourceSpec | None = None
    #: business key columns; required by merge/scd2/cdc, optional elsewhere (then checked unique)
    keys: list[str] = Field(default_factory=list)
    #: keep one row per key: the one with the greatest value of this column (ties are an error)
    dedupe_by: str | None = None
    #: what to do when the source has columns the target lacks: fail, or add them
    schema_change: Literal["fail", "add_columns"] = "fail"
    description: str | None = None
    #: marts that must be loaded first (the DAG factory orders tasks by it)
    depends_on: list[str] = Field(default_factory=list)
    checks: Checks | None = None

    needs_keys: ClassVar[bool] = False

    @field_validator("keys")
    @classmethod
    def _keys_unique(cls, keys: list[str]) -> list[str]:
        if len(set(keys)) != len(keys):
            raise ValueError(f"keys repeat a column: {keys}")
        return keys

    @model_validator(mode="after")
    def _check_keys(self) -> MartBase:
        if self.needs_keys and not self.keys:
            raise ValueError(f"strategy {self.strategy!r} needs `keys: [column, ...]`")
        if self.dedupe_by and not self.keys:
            raise ValueError("`dedupe_by` needs `keys` (it keeps one row per key)")
        if self.checks and self.checks.volume and not (self.checks.volume.max_change or self.checks.volume.empty_runs):
            raise ValueError("`checks.volume` needs `max_change` and/or `empty_runs`")
        if self.checks and self.checks.unique_keys and not self.keys:
            raise ValueError("`checks.unique_keys` needs `keys`")
        if self.checks and self.checks.freshness and not (self.checks.freshness.column or self.cursor_column):
            raise ValueError("`checks.freshness` needs a `column` (this mart has no cursor to default to)")
        return self

    @property
    def cursor_column(self) -> str | None:
        """The column whose maximum is stored as the watermark, if this mart is incremental."""
        return None


class FullSpec(MartBase):
    """Replace the whole table; readers see the old rows until the new ones are committed."""

    strategy: Literal["full"] = "full"


class AppendSpec(MartBase):
    """Insert new rows; with a cursor, only rows past the stored watermark."""

    strategy: Literal["append"] = "append"
    cursor: str | None = None
    #: re-read rows this far behind the watermark, skipping keys already loaded (needs keys)
    lookback: Interval | None = None
    #: insert-only dedupe: drop batch rows whose keys are already in the table (needs keys)
    skip_existing: bool = False

    @field_validator("lookback", mode="before")
    @classmethod
    def _parse_lookback(cls, value: Any) -> Any:
        return None if value is None else parse_interval(value)

    @model_validator(mode="after")
    def _check_lookback(self) -> AppendSpec:
        if self.lookback is not None and not self.cursor:
            raise ValueError("`lookback` needs `cursor` (it widens the cursor's window)")
        if self.lookback is not None and not self.keys:
            raise ValueError("`lookback` needs `keys` to skip rows that were already loaded")
        if self.skip_existing and not self.keys:
            raise ValueError("`skip_existing` needs `keys` (it drops rows whose keys are already loaded)")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.cursor


MergeMethod = Literal["auto", "merge", "upsert", "update_insert", "delete_insert"]


class MergeSpec(MartBase):
    """Upsert by key; with ``delete_missing`` the source is a full snapshot."""

    strategy: Literal["merge"] = "merge"
    delete_missing: bool = False
    #: auto: the target's fastest; merge: one MERGE statement; upsert: INSERT ... ON CONFLICT /
    #: ON DUPLICATE KEY UPDATE (needs a unique index on the keys, which loaders creates);
    #: update_insert: UPDATE then INSERT; delete_insert: delete matched keys, insert the whole batch
    method: MergeMethod = "auto"
    #: only rows past the watermark are merged (an incremental upsert)
    cursor: str | None = None
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check_snapshot(self) -> MergeSpec:
        if self.delete_missing and self.cursor:
            raise ValueError(
                "`delete_missing: true` treats the source as a full snapshot; it cannot be combined "
                "with `cursor` (an incremental batch would delete every key it does not carry)"
            )
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.cursor


class SCD2Spec(MartBase):
    """Keep history: one row per version with valid_from / valid_to / is_current."""

    strategy: Literal["scd2"] = "scd2"
    #: columns whose change opens a new version (default: every non-key column)
    track: list[str] | None = None
    #: source column giving each change's time (default: the load time)
    effective_from: str | None = None
    #: close: the source is a full snapshot and absent keys get their current version closed
    deletes: Literal["ignore", "close"] = "ignore"
    #: update: untracked columns of the current version are overwritten in place; ignore: kept
    untracked: Literal["update", "ignore"] = "update"
    valid_from_column: str = "valid_from"
    valid_to_column: str = "valid_to"
    is_current_column: str = "is_current"
    cursor: str | None = None
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check(self) -> SCD2Spec:
        managed = [self.valid_from_column, self.valid_to_column, self.is_current_column]
        if len(set(managed)) != 3:
            raise ValueError(f"valid_from/valid_to/is_current column names must differ: {managed}")
        overlap = set(managed) & set(self.keys + (self.track or []))
        if overlap:
            raise ValueError(f"keys/track name history columns {sorted(overlap)}")
        if self.track is not None and set(self.track) & set(self.keys):
            raise ValueError("`track` lists key columns; keys identify a row, they are not tracked")
        if self.deletes == "close" and self.cursor:
            raise ValueError("`deletes: close` needs a full snapshot; it cannot go with `cursor`")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.cursor


class CDCSpec(MartBase):
    """Apply an ordered change feed: the last event per key wins, in sequence order."""

    strategy: Literal["cdc"] = "cdc"
    op_column: str = "op"
    #: column that orders events (an LSN, a binlog position, a timestamp); also the watermark
    sequence: str
    #: hard: D deletes the row; soft: D sets ``deleted_column`` to true
    deletes: Literal["hard", "soft"] = "hard"
    deleted_column: str = "_deleted"
    keep_op: bool = False
    keep_sequence: bool = True
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check(self) -> CDCSpec:
        if self.op_column in self.keys or self.sequence in self.keys:
            raise ValueError("the op and sequence columns cannot be keys")
        if self.op_column == self.sequence:
            raise ValueError("`op_column` and `sequence` must be different columns")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.sequence


class SCD1Spec(MergeSpec):
    """SCD type 1: overwrite attributes in place, keep no history. The same load as ``merge``."""

    strategy: Literal["scd1"] = "scd1"  # type: ignore[assignment]


class OverwriteWindowSpec(MartBase):
    """The batch holds complete data for its time windows: replace exactly those windows."""

    strategy: Literal["overwrite_window"] = "overwrite_window"
    #: the date/timestamp column that places a row in a window
    partition_by: str
    grain: Literal["day", "month"] = "day"


class SnapshotSpec(MartBase):
    """Append the whole source stamped with the run's date; a repeated run replaces that date."""

    strategy: Literal["snapshot"] = "snapshot"
    snapshot_column: str = "snapshot_date"
    #: keep only the newest N snapshots
    retain: int | None = Field(default=None, ge=1)


MartSpec: TypeAlias = Annotated[
    FullSpec | AppendSpec | MergeSpec | SCD1Spec | SCD2Spec | CDCSpec | OverwriteWindowSpec | SnapshotSpec,
    Field(discriminator="strategy"),
]
SPEC_MODELS: dict[str, type[MartBase]] = {
    m.model_fields["strategy"].default: m
    for m in (FullSpec, AppendSpec, MergeSpec, SCD1Spec, SCD2Spec, CDCSpec, OverwriteWindowSpec, SnapshotSpec)
}
STRATEGY_NAMES: tuple[str, ...] = tuple(SPEC_MODELS)


class AirflowOptions(_Model):
    """How the DAG factory schedules a marts file: one DAG, one task per mart."""

    dag_id: str | None = None
    #: a cron expression or preset such as "@daily"; none means triggered by hand or by assets
    schedule: str | None = None
    start_date: date = date(2026, 1, 1)
    retries: int = Field(default=2, ge=0)
    retry_delay: timedelta = timedelta(minutes=5)
    catchup: bool = False
    max_active_runs: int = Field(default=1, ge=1)
    tags: list[str] = Field(default_factory=lambda: ["loaders"])

    @field_validator("retry_delay", mode="before")
    @classmethod
    def _parse_delay(cls, value: Any) -> Any:
        parsed = parse_interval(value)
        return timedelta(seconds=parsed) if isinstance(parsed, (int, float)) else parsed


class Project(_Model):
    """A marts file: one target and the marts loaded into it."""

    target: str = "duckdb:///warehouse.duckdb"
    airflow: AirflowOptions = Field(default_factory=AirflowOptions)
    #: schema holding the watermark and run-log tables (default: the target's default schema)
    state_schema: str | None = None
    marts: dict[str, MartSpec]
    #: folder that relative paths in this project resolve against
    base_dir: Path = Field(default=Path("."), exclude=True)


# --------------------------------------------------------------------------- parsing
def _format_error(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if p not in SPEC_MODELS)
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "union_tag_invalid":
        msg = f"unknown strategy {first.get('ctx', {}).get('tag')!r}; valid strategies: {', '.join(STRATEGY_NAMES)}"
    elif first["type"] == "union_tag_not_found":
        msg = f"missing `strategy`; valid strategies: {', '.join(STRATEGY_NAMES)}"
    elif first["type"] == "extra_forbidden":
        model = _model_at(first["loc"])
        valid = ", ".join(sorted(k for k in model.model_fields if k != "base_dir")) if model else ""
        msg = f"unknown option {first['loc'][-1]!r}" + (f"; valid options: {valid}" if valid else "")
        loc = ".".join(str(p) for p in first["loc"][:-1] if p not in SPEC_MODELS)
    elif first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        msg = f"invalid value {first['input']!r}; expected {expected}"
    extra = f" (and {len(error.errors()) - 1} more problems)" if len(error.errors()) > 1 else ""
    return f"{where}{': ' + loc if loc else ''}: {msg}{extra}"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Which options model an error location points into, so the message can list its keys."""
    nested: dict[str, type[BaseModel]] = {
        "source": FileSource,
        "checks": Checks,
        "freshness": FreshnessCheck,
        "volume": VolumeCheck,
        "null_rate": NullRateCheck,
        "airflow": AirflowOptions,
    }
    for part in reversed(loc[:-1]):
        if part in nested:
            return nested[part]
        if part in SPEC_MODELS:
            return SPEC_MODELS[part]
    return Project if len(loc) <= 1 else None


def parse_mart(name: str, options: dict[str, Any]) -> MartBase:
    """Validate one mart's options; errors name the mart and the offending key."""
    try:
        return TypeAdapter(MartSpec).validate_python(options)  # type: ignore[no-any-return]
    except ValidationError as e:
        raise SpecError(_format_error(e, "invalid spec").removeprefix("invalid spec: "), mart=name) from None


def parse_project(data: Any, base_dir: Path | str = ".") -> Project:
    if not isinstance(data, dict):
        raise SpecError("a marts file must be a mapping with `target` and `marts`")
    marts = data.get("marts")
    if not isinstance(marts, dict) or not marts:
        raise SpecError("a marts file needs `marts:` mapping mart names to their options")
    parsed: dict[str, Any] = {}
    for name, options in marts.items():
        if not isinstance(options, dict):
            raise SpecError("options must be a mapping", mart=name)
        parsed[name] = parse_mart(str(name), options)
    check_dependencies(parsed)
    rest = {k: v for k, v in data.items() if k != "marts"}
    try:
        return Project(marts=parsed, base_dir=Path(base_dir), **rest)
    except ValidationError as e:
        raise SpecError(_format_error(e, "marts file")) from None
    except TypeError as e:
        raise SpecError(f"marts file: {e}") from None


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, where: str = "") -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in string values, so credentials stay out of the file."""
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise SpecError(
            f"{where}: environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
        )

    return _ENV.sub(one, value)


def check_dependencies(marts: dict[str, MartBase]) -> list[str]:
    """Marts in an order where each comes after those it depends on; unknown names and cycles fail."""
    for name, spec in marts.items():
        unknown = [d for d in spec.depends_on if d not in marts]
        if unknown:
            raise SpecError(
                f"depends_on names unknown mart {unknown[0]!r}; marts in this file: {', '.join(marts)}", mart=name
            )
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name) :] + [name]
            raise SpecError(f"depends_on forms a cycle: {' -> '.join(cycle)}", mart=name)
        visiting.append(name)
        for dep in marts[name].depends_on:
            visit(dep)
        visiting.pop()
        order.append(name)

    for name in marts:
        visit(name)
    return order


def load_project(path: str | Path) -> Project:
    """Read a marts YAML file; relative paths inside it resolve against its folder, and ``${VAR}``
    in any string value is taken from the environment."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SpecError(f"cannot read marts file {str(path)!r}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid YAML: {e}") from None
    return parse_project(expand_env(data), base_dir=path.resolve().parent)
