"""Target adapters, one per engine family, chosen by the URL's SQLAlchemy backend name."""

from __future__ import annotations

import sqlalchemy as sa

from loaders.errors import SpecError, UnsupportedByTarget
from loaders.targets.base import Column, Staged, TableRef, Target
from loaders.targets.duckdb import DuckDBTarget

__all__ = ["TARGETS", "Column", "DuckDBTarget", "Staged", "TableRef", "Target", "open_target"]

#: backend name -> adapter class; plain dict so it can be grepped and extended
TARGETS: dict[str, type[Target]] = {b: cls for cls in (DuckDBTarget,) for b in cls.backends}


def open_target(url: str) -> Target:
    try:
        backend = sa.engine.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise SpecError(f"target {url!r} is not a SQLAlchemy URL (e.g. duckdb:///warehouse.duckdb)") from None
    cls = TARGETS.get(backend)
    if cls is None:
        raise UnsupportedByTarget(f"no adapter for {backend!r} targets yet; available: {', '.join(TARGETS)}")
    return cls(url)
