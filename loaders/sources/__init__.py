"""Sources turn files, SQL queries and in-memory data into a stream of Arrow record batches.

Every source can take a :class:`Pushdown` (``column > value``) so an incremental load reads only rows
past the watermark; strategies filter again in SQL, so pushdown is an optimisation, never the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.errors import SpecError
from loaders.sources.arrow import ArrowSource
from loaders.sources.base import Pushdown, Source
from loaders.sources.files import FileSource
from loaders.sources.sql import QuerySource
from loaders.spec import FileSource as FileSourceSpec
from loaders.spec import PostgresCDCSource as PostgresCDCSpec
from loaders.spec import QuerySource as QuerySourceSpec
from loaders.spec import SourceSpec, validate_options

__all__ = ["ArrowSource", "FileSource", "Pushdown", "QuerySource", "Source", "as_source"]


def as_source(obj: Any, base_dir: Path | None = None, *, mart: str | None = None) -> Source:
    """Turn whatever a user passed (a spec, a path, an Arrow table, a DataFrame, rows) into a Source."""
    if isinstance(obj, Source):
        return obj
    if isinstance(obj, FileSourceSpec):
        if obj.format == "debezium":
            from loaders.sources.debezium import DebeziumSource

            return DebeziumSource(obj.path, base_dir=base_dir)
        return FileSource(obj.path, format=obj.format, base_dir=base_dir)
    if isinstance(obj, PostgresCDCSpec):
        from loaders.sources.postgres_cdc import PostgresCDCSource

        o = obj.postgres_cdc
        return PostgresCDCSource(o.url, o.table, o.slot, o.publication)
    if isinstance(obj, QuerySourceSpec):
        return QuerySource(obj.query, obj.url, base_dir=base_dir)
    if isinstance(obj, (str, Path)):
        return FileSource(str(obj), base_dir=base_dir)
    if isinstance(obj, dict):
        return as_source(validate_options(SourceSpec, mart, obj, where=("source",)), base_dir, mart=mart)
    if obj is None:
        raise SpecError("no source: give `source: {path: ...}` or `{query: ..., url: ...}`", mart=mart)
    return ArrowSource(obj)
