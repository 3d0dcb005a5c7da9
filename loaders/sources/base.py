"""The source interface: a description for logs and a reader of Arrow record batches."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from loaders.lazy import lazy

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")


@dataclass(frozen=True)
class Pushdown:
    """Only rows with ``column > value`` are needed (the watermark, less any look-back), or ``>=`` when
    ``inclusive`` (the strategy decides about rows at the watermark itself). Rows whose column is NULL
    are kept: they must reach the load's NULL check, not vanish at the source."""

    column: str
    value: Any
    inclusive: bool = False

    def where(self, quote: Callable[[str], str], zoned: bool | None = None) -> tuple[str, dict[str, Any]]:
        """The filter as SQL text with its ``:watermark`` parameter, for a source a database reads (a
        query, files the target reads itself); ``zoned`` as in :meth:`value_for`."""
        column, op = quote(self.column), ">=" if self.inclusive else ">"
        return f"{column} {op} :watermark or {column} is null", {"watermark": self.value_for(zoned)}

    def value_for(self, zoned: bool | None) -> Any:
        """The watermark comparable with the column: watermarks are naive UTC, so a zoned timestamp
        column (``zoned`` True) compares with the same instant in UTC, and a naive one (False) with a
        zoned value's UTC; None (not a timestamp, or not known) takes the value as it is."""
        value = self.value
        if isinstance(value, datetime) and zoned is not None:
            if zoned and value.tzinfo is None:
                return value.replace(tzinfo=timezone.utc)
            if not zoned and value.tzinfo is not None:
                return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value


def zoned(column_type: pa.DataType) -> bool | None:
    """For :meth:`Pushdown.value_for`: whether an Arrow timestamp type has a time zone."""
    return bool(column_type.tz) if pa.types.is_timestamp(column_type) else None


class Source(abc.ABC):
    """Anything that yields the batch to load as Arrow record batches, streamed."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the rows come from, for logs and plans; never contains a password."""

    @abc.abstractmethod
    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        """Open a stream of batches; a source that cannot push the filter down ignores it."""
