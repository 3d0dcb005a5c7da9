"""loaders: move a batch of source rows into a mart table with the right load strategy.

Python use::

    from loaders import SCD2
    result = SCD2(keys=["customer_id"], track=["city"]).run("customers.parquet", "duckdb:///wh.duckdb",
                                                             table="dim_customer")

Names are imported on first use (PEP 562), so ``import loaders`` and ``loaders --help`` stay cheap:
Arrow, DuckDB and the drivers load only when a load runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        [
            "DataContractError",
            "LoaderError",
            "SchemaChangeError",
            "SourceError",
            "SpecError",
            "TargetError",
            "TargetLocked",
            "TransientTargetError",
            "UnsupportedByTarget",
        ],
        "loaders.errors",
    ),
    **dict.fromkeys(
        ["CDC", "SCD1", "SCD2", "Append", "FullReload", "Merge", "OverwriteWindow", "Snapshot"], "loaders.api"
    ),
    "STRATEGIES": "loaders.strategies",
    "Strategy": "loaders.strategies",
    "LoadResult": "loaders.result",
    "load_mart": "loaders.runner",
    "run_project": "loaders.runner",
    "Project": "loaders.project",
    "load_project": "loaders.project",
    "parse_mart": "loaders.project",
    "parse_project": "loaders.project",
}
__all__ = [
    "CDC",
    "SCD1",
    "SCD2",
    "STRATEGIES",
    "Append",
    "DataContractError",
    "FullReload",
    "LoadResult",
    "LoaderError",
    "Merge",
    "OverwriteWindow",
    "Project",
    "SchemaChangeError",
    "Snapshot",
    "SourceError",
    "SpecError",
    "Strategy",
    "TargetError",
    "TargetLocked",
    "TransientTargetError",
    "UnsupportedByTarget",
    "load_mart",
    "load_project",
    "parse_mart",
    "parse_project",
    "run_project",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'loaders' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from loaders.api import CDC, SCD1, SCD2, Append, FullReload, Merge, OverwriteWindow, Snapshot
    from loaders.errors import (
        DataContractError,
        LoaderError,
        SchemaChangeError,
        SourceError,
        SpecError,
        TargetError,
        TargetLocked,
        TransientTargetError,
        UnsupportedByTarget,
    )
    from loaders.project import Project, load_project, parse_mart, parse_project
    from loaders.result import LoadResult
    from loaders.runner import load_mart, run_project
    from loaders.strategies import STRATEGIES, Strategy
