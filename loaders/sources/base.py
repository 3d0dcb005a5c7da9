"""The source interface: a description for logs and a reader of Arrow record batches."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class Pushdown:
    """Only rows with ``column > value`` are needed (the watermark, less any look-back), or ``>=`` when
    ``inclusive`` (the strategy decides about rows at the watermark itself). Rows whose column is NULL
    are kept: they must reach the load's NULL check, not vanish at the source."""

    column: str
    value: Any
    inclusive: bool = False

    def where(self, quote: Callable[[str], str], column_type: pa.DataType | None = None) -> tuple[str, dict[str, Any]]:
        """The filter as SQL text with its ``:watermark`` parameter, for a source a database reads (a
        query, files the target reads itself); with the column's type, the value fits it."""
        column, op = quote(self.column), ">=" if self.inclusive else ">"
        value = self.value if column_type is None else self.value_for(column_type)
        return f"{column} {op} :watermark or {column} is null", {"watermark": value}

    def value_for(self, column_type: pa.DataType) -> Any:
        """The watermark comparable with a column of this type: watermarks are naive UTC, so a zoned
        column compares with the same instant in UTC (and a naive column with a zoned value's UTC)."""
        value = self.value
        if isinstance(value, datetime) and pa.types.is_timestamp(column_type):
            if column_type.tz and value.tzinfo is None:
                return value.replace(tzinfo=timezone.utc)
            if not column_type.tz and value.tzinfo is not None:
                return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value


class Source(abc.ABC):
    """Anything that yields the batch to load as Arrow record batches, streamed."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the rows come from, for logs and plans; never contains a password."""

    @abc.abstractmethod
    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        """Open a stream of batches; a source that cannot push the filter down ignores it."""
