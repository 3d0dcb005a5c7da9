"""Dataset names for lineage (OpenLineage's naming: a namespace for where the data lives and a name
for the dataset in it). Plain functions of a URL, a table and a source spec; no Airflow here.

- server databases: ``postgres://host:port`` + ``database.schema.table``, ``mysql://host:port`` +
  ``database.table``;
- files, and embedded databases that are files: ``file`` + the absolute path (a DuckDB or SQLite
  table is ``path.duckdb/schema.table``);
- a SQL source: the tables its query reads (parsed by openlineage-sql where installed), else the query
  itself as one dataset named ``query``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.spec import FileSource, PostgresCDCSource, QuerySource
from loaders.targets.columns import TableRef
from loaders.urls import parse_url

_SCHEMES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def table_dataset(url: str, table: str, default_schema: str | None = None) -> tuple[str, str]:
    """(namespace, name) of a table in the database at ``url``."""
    parsed, ref = parse_url(url), TableRef.parse(table)
    backend = parsed.get_backend_name()
    if backend in ("duckdb", "sqlite"):
        path = str(Path(parsed.database or ":memory:").resolve()) if parsed.database else ":memory:"
        return "file", f"{path}/{ref.schema or default_schema or 'main'}.{ref.name}"
    namespace = f"{_SCHEMES.get(backend, backend)}://{parsed.host or 'localhost'}:{parsed.port or _port(backend)}"
    if backend == "postgresql":
        return namespace, f"{parsed.database}.{ref.schema or default_schema or 'public'}.{ref.name}"
    return namespace, f"{ref.schema or parsed.database}.{ref.name}"


def source_datasets(source: Any, base_dir: Path | None = None, target: str | None = None) -> list[tuple[str, str]]:
    """(namespace, name) of each dataset a mart's source reads; none for in-memory data. A query
    without a URL reads tables of the ``target``."""
    if isinstance(source, FileSource):
        path = Path(source.path)
        return [("file", str((base_dir / path if base_dir and not path.is_absolute() else path).resolve()))]
    if isinstance(source, QuerySource):
        url = source.url or target
        if url is None:
            return []
        try:
            import openlineage_sql

            tables = openlineage_sql.parse([source.query]).in_tables
        except ImportError:
            tables = []
        if not tables:
            return [(table_dataset(url, "query")[0], "query")]
        return [table_dataset(url, ".".join(p for p in (t.schema, t.name) if p)) for t in tables]
    if isinstance(source, PostgresCDCSource):
        feed = source.postgres_cdc
        return [table_dataset(feed.url, feed.table if "." in feed.table else f"public.{feed.table}")]
    return []


def _port(backend: str) -> int:
    return {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}.get(backend, 0)
