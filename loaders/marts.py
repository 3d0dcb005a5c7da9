"""Each strategy's options, as the pydantic models a marts file's entries are parsed into.

Apart from the strategies' SQL, so reading and checking a marts file (``loaders validate``, the
Airflow DAG factory, every task's parse of its DAG file) never imports SQLAlchemy. Each strategy
module takes its model from here (``Merge`` has ``MergeSpec``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, field_validator, model_validator

from loaders.spec import FEED_OP, FEED_POSITION, FEED_TIME, Interval, MartBase, is_change_feed, parse_interval


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


class SCD1Spec(MergeSpec):
    """SCD type 1: overwrite attributes in place, keep no history. The same load as ``merge``."""

    strategy: Literal["scd1"] = "scd1"  # type: ignore[assignment]


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
    #: read the source as a change feed ordered by this column: every event becomes a version
    sequence: str | None = None
    #: the feed's op column (I/U/D or Debezium c/r/u/d), with ``sequence``
    op_column: str = "op"
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _feed_columns(cls, data: Any) -> Any:
        """A change-feed source (Debezium, postgres_cdc) brings its op, position and commit time."""
        if isinstance(data, dict) and is_change_feed(data.get("source")):
            data = {"sequence": FEED_POSITION, "op_column": FEED_OP, "effective_from": FEED_TIME, **data}
        return data

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
        if self.sequence:
            if self.deletes == "close" or self.cursor or self.track is not None:
                raise ValueError(
                    "with `sequence` the source is a change feed: every event is a version and deletes come "
                    "as events, so `deletes: close`, `cursor` and `track` do not apply"
                )
            if {self.sequence, self.op_column} & set(self.keys) or self.sequence == self.op_column:
                raise ValueError("`sequence` and `op_column` must be two columns that are not keys")
        return self

    @property
    def cursor_column(self) -> str | None:
        return self.sequence or self.cursor


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
    #: a truncate event (op T): refuse the batch, or empty the mart at that point of the feed
    truncate: Literal["refuse", "apply"] = "refuse"
    needs_keys: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _feed_columns(cls, data: Any) -> Any:
        """A change-feed source (Debezium, postgres_cdc) brings its own op and position columns."""
        if isinstance(data, dict) and is_change_feed(data.get("source")):
            data = {"sequence": FEED_POSITION, "op_column": FEED_OP, **data}
        return data

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


#: every strategy's model, by its ``strategy:`` name (the strategy classes register the same names)
SPECS: dict[str, type[MartBase]] = {
    "full": FullSpec,
    "append": AppendSpec,
    "merge": MergeSpec,
    "scd1": SCD1Spec,
    "scd2": SCD2Spec,
    "cdc": CDCSpec,
    "overwrite_window": OverwriteWindowSpec,
    "snapshot": SnapshotSpec,
}
STRATEGY_NAMES: tuple[str, ...] = tuple(SPECS)
#: a mart's options: the strategy's own model, chosen by ``strategy:``
MartSpec: Any = Annotated[Union[tuple(SPECS.values())], Field(discriminator="strategy")]  # noqa: UP007
