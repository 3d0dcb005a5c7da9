"""A SQL query as a source, with the watermark bound as a parameter: run on another database and
streamed as Arrow batches, or run inside the target itself, which stages its result with
``CREATE TEMPORARY TABLE ... AS`` so no row passes through Python (``url`` left out, or the target's).

If the query mentions ``:watermark`` the stored cursor is bound there (write
``where :watermark is null or updated_at > :watermark`` for the first run; before any watermark the
parameter is the literal NULL, which every engine can type); otherwise the query is wrapped as
``select * from (query) where cursor > :watermark`` when a watermark exists. Only a ``:watermark``
outside string literals, quoted names and comments is a parameter; every other colon (``'12:30'``,
PostgreSQL's ``::int``) stays as written. The engine's adapter runs the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders.errors import LoaderError, SourceError, first_line
from loaders.lazy import lazy
from loaders.sources.base import Pushdown, Source
from loaders.urls import redact, resolve_url

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")

BATCH_ROWS = 100_000

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|(?<![:\w]):watermark\b|:", re.S)


def bind_watermark(query: str, null: bool = False) -> tuple[str, bool]:
    """The query as SQLAlchemy text with ``:watermark`` its only parameter (or the literal NULL where
    ``null``); and whether it has one."""
    found = False

    def token(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(0) == ":watermark":
            found = True
            return "NULL" if null else ":watermark"
        return match.group(0).replace(":", r"\:")

    return _TOKENS.sub(token, query), found


class QuerySource(Source):
    def __init__(self, query: str, url: str | None = None, base_dir: Path | None = None) -> None:
        self.query = query
        self.url = resolve_url(url, base_dir) if url else None
        #: the runner sets this when the query runs inside the target (no url, or the target's own)
        self.in_target = self.url is None

    def describe(self) -> str:
        first = " ".join(self.query.split())[:60]
        return f"{redact(self.url) if self.url else 'the target'}: {first}"

    def sql(self, pushdown: Pushdown | None, dialect: sa.Dialect) -> tuple[str, dict[str, Any]]:
        """The query as SQLAlchemy text (other colons escaped) and its parameters."""
        value = pushdown.value if pushdown else None
        # no watermark yet: the literal NULL, as a bare NULL parameter cannot be typed by PostgreSQL
        text, binds = bind_watermark(self.query, null=value is None)
        if binds or value is None:
            return text, {} if value is None else {"watermark": value}
        assert pushdown is not None
        where, params = pushdown.where(dialect.identifier_preparer.quote)
        return f"select * from ({text}) as _loaders_src where {where}", params

    def statement(self, pushdown: Pushdown | None, dialect: sa.Dialect) -> sa.TextClause:
        text, params = self.sql(pushdown, dialect)
        return sa.text(text).bindparams(**params)

    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        from loaders.targets import open_target

        if self.url is None:
            raise SourceError("a query without `url` runs inside the target; it has no rows to stream elsewhere")
        adapter = open_target(self.url)
        try:
            reader = adapter.read_query(self.statement(pushdown, adapter.dialect), BATCH_ROWS)
        except (sa.exc.SQLAlchemyError, LoaderError) as e:
            adapter.close()
            raise SourceError(
                f"query on {redact(self.url)} failed: {first_line(getattr(e, 'orig', None) or e)}"
            ) from None
        except Exception as e:  # a driver's own error class (DuckDB raises its own)
            adapter.close()
            raise SourceError(f"query on {redact(self.url)} failed: {first_line(e)}") from None

        def stream() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            finally:
                adapter.close()

        return pa.RecordBatchReader.from_batches(reader.schema, stream())


def stream_rows(engine: sa.Engine, statement: sa.TextClause, batch_rows: int) -> pa.RecordBatchReader:
    """Any driver: rows fetched ``batch_rows`` at a time (server-side where the driver can) into Arrow."""
    conn = engine.connect().execution_options(stream_results=True, yield_per=batch_rows)
    try:
        result = conn.execute(statement)
    except Exception:
        conn.close()
        raise
    names = list(result.keys())
    batches = arrow_batches(result, names)
    first = next(batches, None)
    if first is None:
        first = pa.RecordBatch.from_pydict({n: pa.array([], pa.null()) for n in names})
    schema = first.schema

    def stream() -> Iterator[pa.RecordBatch]:
        try:
            yield first
            for batch in batches:
                yield batch.cast(schema) if batch.schema != schema else batch
        finally:
            conn.close()

    return pa.RecordBatchReader.from_batches(schema, stream())


def arrow_batches(result: sa.CursorResult[Any], names: list[str]) -> Iterator[pa.RecordBatch]:
    """Build Arrow batches column by column; a column that is all NULL so far stays null-typed."""
    for part in result.partitions():
        columns = list(zip(*part, strict=True)) if part else [()] * len(names)
        yield pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names=names)
