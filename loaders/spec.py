"""Typed models of what every mart shares: sources, health checks, intervals and the base options.

Each strategy declares its own options model next to its loader class (``loaders/strategies/``); a
marts file is read by ``loaders/project.py``. Every model forbids unknown keys and names the valid
ones, so a typo is an error that says which key is wrong and what it could have been.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from loaders.errors import SpecError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """Unknown keys fail here, where the model can list its own valid ones."""
        if isinstance(data, dict):
            valid = [k for k, f in cls.model_fields.items() if not f.exclude]
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise ValueError(f"unknown option {unknown[0]!r}; valid options: {', '.join(sorted(valid))}")
        return data


# --------------------------------------------------------------------------- sources
#: the columns a change-feed source (``format: debezium``, ``postgres_cdc``) adds to each row: op,
#: position (the mart's sequence) and commit time
FEED_OP, FEED_POSITION, FEED_TIME = "__op", "__position", "__source_ts"
#: columns an update did not send (PostgreSQL's unchanged TOAST values), as ``,a,b,``: keep the old value
FEED_UNCHANGED = "__unchanged"


def is_change_feed(source: Any) -> bool:
    """A source (as parsed, or still a dict) that brings its own op, position and commit time."""
    if isinstance(source, dict):
        return source.get("format") == "debezium" or "postgres_cdc" in source
    return getattr(source, "format", None) == "debezium" or isinstance(source, PostgresCDCSource)


class FileSource(_Model):
    """Parquet, CSV or JSON-lines files; a glob or a folder reads every matching file."""

    path: str
    #: debezium: JSON lines of Debezium change events (a cdc mart's op and sequence come from them)
    format: Literal["parquet", "csv", "jsonl", "debezium"] | None = None


class QuerySource(_Model):
    """A query; ``:watermark`` in it is bound to the stored cursor. Without ``url`` (or with the
    target's own) it runs inside the target, which stages its result itself: no row leaves the engine."""

    query: str
    url: str | None = None


class PostgresCDC(_Model):
    """Where the changes come from: the table, its publication and this mart's replication slot."""

    url: str
    #: schema.table (public when no schema is given)
    table: str
    #: one slot per mart: a slot consumed for one mart is gone for another
    slot: str
    publication: str


class PostgresCDCSource(_Model):
    """A live PostgreSQL table's changes, through logical replication (``wal_level=logical``)."""

    postgres_cdc: PostgresCDC


#: the key that tells one kind of source from another -> its tag in the union
SOURCE_KEYS = {"path": "files", "query": "sql", "postgres_cdc": "postgres_cdc"}


def _source_kind(value: Any) -> str | None:
    if isinstance(value, FileSource):
        return "files"
    if isinstance(value, QuerySource):
        return "sql"
    if isinstance(value, PostgresCDCSource):
        return "postgres_cdc"
    if isinstance(value, dict):
        return next((tag for key, tag in SOURCE_KEYS.items() if key in value), None)
    return None


SourceSpec: TypeAlias = Annotated[
    Annotated[FileSource, Tag("files")]
    | Annotated[QuerySource, Tag("sql")]
    | Annotated[PostgresCDCSource, Tag("postgres_cdc")],
    Discriminator(_source_kind),
]


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


# --------------------------------------------------------------------------- the options every mart has
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
    #: an empty source may empty the mart (full, merge with delete_missing, scd2 with deletes: close);
    #: by default it is refused, since an empty extract usually means a source outage
    allow_empty: bool = False
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


# --------------------------------------------------------------------------- errors that name the key
def format_error(error: ValidationError, tags: tuple[str, ...] = (), where: tuple[str, ...] = ()) -> str:
    """The first problem as ``key.path: what is wrong``; ``tags`` are union tags pydantic puts in the
    location (strategy names), which a user never wrote; ``where`` is the path to what was validated."""
    first = error.errors()[0]
    loc = [*where, *(str(p) for p in first["loc"] if str(p) not in tags)]
    loc = [p for i, p in enumerate(loc) if not (i and loc[i - 1] == "source" and p in SOURCE_KEYS.values())]
    msg = first["msg"].removeprefix("Value error, ")
    kind, ctx = first["type"], first.get("ctx", {})
    if kind == "union_tag_invalid":
        valid = str(ctx.get("expected_tags", "")).replace("'", "")
        msg = f"unknown strategy {ctx.get('tag')!r}; valid strategies: {valid}"
    elif kind == "union_tag_not_found" and "_source_kind" in str(ctx.get("discriminator")):
        given = ", ".join(map(str, first["input"])) if isinstance(first["input"], dict) else repr(first["input"])
        msg = f"needs `path: ...` (files), `query: ...` (SQL) or `postgres_cdc: {{...}}`; got {given}"
    elif kind == "union_tag_not_found":
        msg = f"missing `strategy`; valid strategies: {', '.join(tags)}"
    elif kind == "literal_error":
        msg = f"invalid value {first['input']!r}; expected {ctx.get('expected', '')}"
    extra = f" (and {len(error.errors()) - 1} more problems)" if len(error.errors()) > 1 else ""
    return f"{'.'.join(loc) + ': ' if loc else ''}{msg}{extra}"


@functools.lru_cache(maxsize=64)
def _adapter(model: Any) -> TypeAdapter[Any]:
    """One TypeAdapter per model: building one costs a millisecond, and a DAG file of 200 marts
    (parsed again by every Airflow task) would build one per mart."""
    return TypeAdapter(model)


def validate_options(
    model: Any, mart: str | None, options: Any, tags: tuple[str, ...] = (), where: tuple[str, ...] = ()
) -> Any:
    """Validate options against ``model`` (a model or a union); errors name the mart and the key."""
    try:
        return _adapter(model).validate_python(options)
    except ValidationError as e:
        raise SpecError(format_error(e, tags, where), mart=mart) from None
