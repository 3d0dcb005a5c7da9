"""Target adapters, one per engine family, chosen by the URL's SQLAlchemy backend name."""

from __future__ import annotations

import sqlalchemy as sa

from loaders.errors import SpecError, UnsupportedByTarget
from loaders.targets.base import Column, Staged, TableRef, Target
from loaders.targets.duckdb import DuckDBTarget
from loaders.targets.generic import GenericTarget
from loaders.targets.mysql import MySQLTarget
from loaders.targets.postgres import PostgresTarget
from loaders.targets.sqlite import SQLiteTarget

__all__ = [
    "ADAPTERS",
    "TARGETS",
    "Column",
    "DuckDBTarget",
    "GenericTarget",
    "MySQLTarget",
    "PostgresTarget",
    "SQLiteTarget",
    "Staged",
    "TableRef",
    "Target",
    "open_target",
]

_CLASSES: tuple[type[Target], ...] = (DuckDBTarget, PostgresTarget, MySQLTarget, SQLiteTarget)
#: SQLAlchemy backend name -> adapter class; plain dict so it can be grepped and extended
TARGETS: dict[str, type[Target]] = {b: cls for cls in _CLASSES for b in cls.backends}
#: names for ``?loaders_adapter=NAME`` in a target URL, to force an adapter (e.g. the generic one)
ADAPTERS: dict[str, type[Target]] = {"generic": GenericTarget, **{cls.backends[0]: cls for cls in _CLASSES}}


def open_target(url: str) -> Target:
    """The adapter for a target URL: by backend name, the generic SQLAlchemy path for any other."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise SpecError(f"target {url!r} is not a SQLAlchemy URL (e.g. duckdb:///warehouse.duckdb)") from None
    forced = parsed.query.get("loaders_adapter")
    if forced is not None:
        if forced not in ADAPTERS:
            raise SpecError(f"unknown loaders_adapter {forced!r}; valid: {', '.join(ADAPTERS)}")
        url = parsed.difference_update_query(["loaders_adapter"]).render_as_string(hide_password=False)
        return ADAPTERS[str(forced)](url)
    cls = TARGETS.get(parsed.get_backend_name(), GenericTarget)
    try:
        return cls(url)
    except (ImportError, sa.exc.NoSuchModuleError) as e:
        raise UnsupportedByTarget(f"cannot open {parsed.render_as_string(hide_password=True)}: {e}") from None
