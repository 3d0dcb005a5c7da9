"""In-memory sources: Arrow tables and readers, pandas/polars frames, lists of dicts."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from loaders.errors import SourceError
from loaders.lazy import lazy
from loaders.sources.base import Pushdown, Source, zoned

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")


def to_arrow(obj: Any) -> pa.Table | pa.RecordBatchReader:
    if isinstance(obj, (pa.Table, pa.RecordBatchReader)):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, list):
        return pa.Table.from_pylist(obj)
    if hasattr(obj, "__arrow_c_stream__"):  # polars, pandas >= 2.2, duckdb relations
        return pa.RecordBatchReader.from_stream(obj)
    if type(obj).__module__.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    raise SourceError(
        f"cannot read a source of type {type(obj).__name__}; give a path, a query, "
        "an Arrow table or reader, a DataFrame, or a list of dicts"
    )


class ArrowSource(Source):
    """Rows already in memory. A reader can be read once; a table any number of times."""

    def __init__(self, data: Any, name: str = "arrow") -> None:
        self.data = to_arrow(data)
        self.name = name

    def describe(self) -> str:
        rows = f"{self.data.num_rows} rows" if isinstance(self.data, pa.Table) else "stream"
        return f"{self.name} ({rows})"

    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        data = self.data
        if isinstance(data, pa.RecordBatchReader):
            return data
        if pushdown is not None and pushdown.value is not None and pushdown.column in data.column_names:
            # if the comparison does not type-check, the SQL filter in the runner still applies
            import pyarrow.compute as pc

            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                value = pushdown.value_for(zoned(data.schema.field(pushdown.column).type))
                column = pc.field(pushdown.column)
                past = column >= value if pushdown.inclusive else column > value  # a feed keeps reads at it
                data = data.filter(past | column.is_null())
        return pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
