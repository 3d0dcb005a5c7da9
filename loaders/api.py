"""The Python API: loader classes you build with options and ``run`` on a source and a target.

``Merge(keys=["id"]).run("customers.parquet", "duckdb:///wh.duckdb", table="dim_customer")``. Each
class is its strategy plus ``run``, which calls the runner; the strategy modules themselves stay
below the runner and never import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loaders import strategies
from loaders.result import LoadResult
from loaders.runner import load_mart

__all__ = ["CDC", "SCD1", "SCD2", "Append", "FullReload", "Merge", "OverwriteWindow", "Runnable", "Snapshot"]


class Runnable(strategies.Strategy[Any]):
    def run(
        self,
        source: Any,
        target: str,
        *,
        table: str | None = None,
        mart: str | None = None,
        run_time: datetime | None = None,
        plan: bool = False,
        state_schema: str | None = None,
        batch_key: str | None = None,
    ) -> LoadResult:
        """Load ``source`` (path, Arrow table, DataFrame, rows, Source) into ``target`` (a URL).

        ``batch_key`` names the batch, so a script that retries after a failure it cannot read (a lost
        connection at commit) never applies the batch twice: a key already applied is ``skipped``."""
        spec = self.spec if table is None else self.spec.model_copy(update={"table": table})
        return load_mart(
            mart or spec.table or self.name,
            spec,
            target,
            source=source,
            run_time=run_time,
            plan=plan,
            state_schema=state_schema,
            strategy=self,
            batch_key=batch_key,
        )


class FullReload(Runnable, strategies.FullReload):
    __doc__ = strategies.FullReload.__doc__


class Append(Runnable, strategies.Append):
    __doc__ = strategies.Append.__doc__


class Merge(Runnable, strategies.Merge):
    __doc__ = strategies.Merge.__doc__


class SCD1(Runnable, strategies.SCD1):
    __doc__ = strategies.SCD1.__doc__


class SCD2(Runnable, strategies.SCD2):
    __doc__ = strategies.SCD2.__doc__


class CDC(Runnable, strategies.CDC):
    __doc__ = strategies.CDC.__doc__


class OverwriteWindow(Runnable, strategies.OverwriteWindow):
    __doc__ = strategies.OverwriteWindow.__doc__


class Snapshot(Runnable, strategies.Snapshot):
    __doc__ = strategies.Snapshot.__doc__
