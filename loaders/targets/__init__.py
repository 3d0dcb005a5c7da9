"""Target adapters, one per engine family, chosen by the URL's SQLAlchemy backend name.

The registry names each adapter's module rather than importing it, so a PostgreSQL load never
imports DuckDB (and ``loaders validate`` imports no adapter at all).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders.errors import SpecError, UnsupportedByTarget
from loaders.targets.columns import Column, TableRef
from loaders.urls import parse_url

if TYPE_CHECKING:
    from loaders.targets.base import Staged, Target

__all__ = ["ADAPTERS", "TARGETS", "Column", "Staged", "TableRef", "Target", "adapter_class", "open_target"]

#: SQLAlchemy backend name -> "module:class" of its adapter; a plain dict to grep and extend
TARGETS: dict[str, str] = {
    "duckdb": "loaders.targets.duckdb:DuckDBTarget",
    "postgresql": "loaders.targets.postgres:PostgresTarget",
    "mysql": "loaders.targets.mysql:MySQLTarget",
    "mariadb": "loaders.targets.mysql:MySQLTarget",
    "sqlite": "loaders.targets.sqlite:SQLiteTarget",
    # warehouses: tested by compilation only (tests/test_warehouses.py)
    "snowflake": "loaders.targets.snowflake:SnowflakeTarget",
    "bigquery": "loaders.targets.bigquery:BigQueryTarget",
    "databricks": "loaders.targets.databricks:DatabricksTarget",
    "trino": "loaders.targets.trino:TrinoTarget",
}
#: warehouses whose SQLAlchemy dialect comes with an extra of the same name (pip install 'loaders[NAME]')
EXTRAS = ("snowflake", "bigquery", "databricks", "trino")
#: names for ``?loaders_adapter=NAME`` in a target URL, to force an adapter (e.g. the generic one)
ADAPTERS: dict[str, str] = {"generic": "loaders.targets.generic:GenericTarget", **TARGETS}


def __getattr__(name: str) -> Any:
    """``Target`` and ``Staged`` import Arrow: loaded on first use, so importing a column type does not."""
    if name in ("Staged", "Target"):
        return getattr(importlib.import_module("loaders.targets.base"), name)
    raise AttributeError(f"module 'loaders.targets' has no attribute {name!r}")


def adapter_class(path: str) -> type[Target]:
    module, _, name = path.partition(":")
    cls: type[Target] = getattr(importlib.import_module(module), name)
    return cls


def open_target(url: str) -> Target:
    """The adapter for a target URL: by backend name, the generic SQLAlchemy path for any other."""
    parsed = parse_url(url)
    forced, timeout = parsed.query.get("loaders_adapter"), parsed.query.get("loaders_lock_timeout")
    if forced is not None and forced not in ADAPTERS:
        raise SpecError(f"unknown loaders_adapter {forced!r}; valid: {', '.join(ADAPTERS)}")
    path = ADAPTERS[str(forced)] if forced is not None else TARGETS.get(parsed.get_backend_name(), ADAPTERS["generic"])
    try:
        lock_timeout = float(str(timeout)) if timeout is not None else 300.0
    except ValueError:
        raise SpecError(f"loaders_lock_timeout={timeout!r} is not a number of seconds") from None
    own = ["loaders_adapter", "loaders_lock_timeout"]
    url = parsed.difference_update_query(own).render_as_string(hide_password=False)
    try:
        return adapter_class(path)(url, lock_timeout=lock_timeout)
    except (ImportError, sa.exc.NoSuchModuleError) as e:
        backend = parsed.get_backend_name()
        hint = f"; install its dialect: pip install 'loaders[{backend}]'" if backend in EXTRAS else ""
        raise UnsupportedByTarget(f"cannot open {parsed.render_as_string(hide_password=True)}: {e}{hint}") from None
