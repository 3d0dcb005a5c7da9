"""One module per load strategy; ``STRATEGIES`` maps the YAML name to the loader class."""

from __future__ import annotations

from typing import Any

from loaders.spec import MartBase
from loaders.strategies.append import Append
from loaders.strategies.base import LoadContext, Strategy
from loaders.strategies.cdc import CDC
from loaders.strategies.full import FullReload
from loaders.strategies.merge import SCD1, Merge
from loaders.strategies.scd2 import SCD2
from loaders.strategies.snapshot import Snapshot
from loaders.strategies.window import OverwriteWindow

__all__ = [
    "CDC",
    "SCD1",
    "SCD2",
    "STRATEGIES",
    "Append",
    "FullReload",
    "LoadContext",
    "Merge",
    "OverwriteWindow",
    "Snapshot",
    "Strategy",
    "for_spec",
]

STRATEGIES: dict[str, type[Strategy[Any]]] = {
    cls.name: cls for cls in (FullReload, Append, Merge, SCD1, SCD2, CDC, OverwriteWindow, Snapshot)
}


def for_spec(spec: MartBase) -> Strategy[Any]:
    return STRATEGIES[spec.strategy](spec)
