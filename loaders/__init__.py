"""loaders: move a batch of source rows into a mart table with the right load strategy.

Python use::

    from loaders import SCD2
    result = SCD2(keys=["customer_id"], track=["city"]).run("customers.parquet", "duckdb:///wh.duckdb",
                                                             table="dim_customer")
"""

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
from loaders.result import LoadResult
from loaders.runner import load_mart, run_project
from loaders.spec import Project, load_project, parse_mart, parse_project
from loaders.strategies import (
    CDC,
    SCD1,
    SCD2,
    STRATEGIES,
    Append,
    FullReload,
    Merge,
    OverwriteWindow,
    Snapshot,
    Strategy,
)

__version__ = "0.1.0"

__all__ = [
    "CDC",
    "SCD1",
    "OverwriteWindow",
    "Snapshot",
    "SCD2",
    "STRATEGIES",
    "Append",
    "DataContractError",
    "FullReload",
    "LoadResult",
    "LoaderError",
    "Merge",
    "Project",
    "SchemaChangeError",
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
