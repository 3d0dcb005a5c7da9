"""Any other SQLAlchemy database: the portable path of the base class, with no assumptions.

Staging is CREATE TEMPORARY TABLE + executemany; merges are UPDATE ... WHERE EXISTS and
INSERT ... WHERE NOT EXISTS. DDL is assumed not to be transactional, so the runner undoes a table it
created (or columns it added) if the load fails.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa

from loaders.errors import UnsupportedByTarget
from loaders.targets.base import Target


class GenericTarget(Target):
    backends: ClassVar[tuple[str, ...]] = ()
    ddl_is_transactional: ClassVar[bool] = False
    stores_time_zones: ClassVar[bool] = False
    #: nothing known about the engine: refuse values a signed 64-bit integer cannot hold
    max_integer: ClassVar[int | None] = 2**63 - 1

    def window_start(self, column: Any, grain: str, family: str) -> sa.ColumnElement[Any]:
        if grain != "day":
            raise UnsupportedByTarget(
                f"`grain: {grain}` needs a date-truncation function, and standard SQL has none; "
                "use `grain: day` or an engine with an adapter"
            )
        return super().window_start(column, grain, family)
