"""A query on any SQLAlchemy URL, streamed as Arrow batches, with the watermark bound as a parameter.

If the query mentions ``:watermark`` the stored cursor is bound there (write
``where :watermark is null or updated_at > :watermark`` for the first run); otherwise the query is
wrapped as ``select * from (query) where cursor > :watermark`` when a watermark exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from loaders.errors import SourceError
from loaders.sources.base import Pushdown, Source
from loaders.urls import redact, resolve_url

BATCH_ROWS = 100_000


class QuerySource(Source):
    def __init__(self, query: str, url: str, base_dir: Path | None = None) -> None:
        self.query = query
        self.url = resolve_url(url, base_dir)

    def describe(self) -> str:
        first = " ".join(self.query.split())[:60]
        return f"{redact(self.url)}: {first}"

    def _statement(self, pushdown: Pushdown | None) -> tuple[str, dict[str, Any]]:
        if ":watermark" in self.query:
            return self.query, {"watermark": pushdown.value if pushdown else None}
        if pushdown is None or pushdown.value is None:
            return self.query, {}
        return (
            f"select * from ({self.query}) as _loaders_src where {_quote(self.url, pushdown.column)} > :watermark",
            {"watermark": pushdown.value},
        )

    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        sql, params = self._statement(pushdown)
        if self.url.startswith("duckdb"):
            return self._read_duckdb(sql, params)
        engine = sa.create_engine(self.url)
        try:
            conn = engine.connect().execution_options(stream_results=True, yield_per=BATCH_ROWS)
            result = conn.execute(sa.text(sql), params)
        except sa.exc.SQLAlchemyError as e:
            engine.dispose()
            raise SourceError(f"query on {redact(self.url)} failed: {_first_line(e)}") from None
        names = list(result.keys())
        batches = _batches(result, names)
        try:
            first = next(batches)
        except StopIteration:
            first = pa.RecordBatch.from_pydict({n: pa.array([], pa.null()) for n in names})
        schema = first.schema

        def stream() -> Iterator[pa.RecordBatch]:
            try:
                yield first
                for batch in batches:
                    yield batch.cast(schema) if batch.schema != schema else batch
            finally:
                conn.close()
                engine.dispose()

        return pa.RecordBatchReader.from_batches(schema, stream())

    def _read_duckdb(self, sql: str, params: dict[str, Any]) -> pa.RecordBatchReader:
        import duckdb

        path = sa.engine.make_url(self.url).database or ":memory:"
        try:
            con = duckdb.connect(path, read_only=path != ":memory:")
            sql = sql.replace(":watermark", "$watermark")
            return con.sql(sql, params=params or None).to_arrow_reader(BATCH_ROWS)
        except duckdb.Error as e:
            raise SourceError(f"query on {redact(self.url)} failed: {_first_line(e)}") from None


def _batches(result: sa.CursorResult[Any], names: list[str]) -> Iterator[pa.RecordBatch]:
    """Build Arrow batches column by column; a column that is all NULL so far stays null-typed."""
    for part in result.partitions():
        columns = list(zip(*part, strict=True)) if part else [()] * len(names)
        yield pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names=names)


def _quote(url: str, column: str) -> str:
    dialect = sa.engine.make_url(url).get_dialect()()
    return str(dialect.identifier_preparer.quote(column))


def _first_line(e: BaseException) -> str:
    return str(getattr(e, "orig", None) or e).strip().splitlines()[0]
