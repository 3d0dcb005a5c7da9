"""The source interface: a description for logs and a reader of Arrow record batches."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class Pushdown:
    """Only rows with ``column > value`` are needed (the watermark, less any look-back)."""

    column: str
    value: Any


class Source(abc.ABC):
    """Anything that yields the batch to load as Arrow record batches, streamed."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the rows come from, for logs and plans; never contains a password."""

    @abc.abstractmethod
    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        """Open a stream of batches; a source that cannot push the filter down ignores it."""
