"""One module per load strategy (its options model lives in :mod:`loaders.marts`); ``STRATEGIES`` maps
the YAML name to the loader class, and :data:`MartSpec` is the union a marts file's entries are
parsed into."""

from __future__ import annotations

from typing import Any

from loaders.marts import STRATEGY_NAMES, MartSpec
from loaders.spec import MartBase
from loaders.strategies.append import Append, AppendSpec
from loaders.strategies.base import LoadContext, Strategy
from loaders.strategies.cdc import CDC, CDCSpec
from loaders.strategies.full import FullReload, FullSpec
from loaders.strategies.merge import SCD1, Merge, MergeSpec, SCD1Spec
from loaders.strategies.scd2 import SCD2, SCD2Spec
from loaders.strategies.snapshot import Snapshot, SnapshotSpec
from loaders.strategies.window import OverwriteWindow, OverwriteWindowSpec

__all__ = [
    "CDC",
    "SCD1",
    "SCD2",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Append",
    "AppendSpec",
    "CDCSpec",
    "FullReload",
    "FullSpec",
    "LoadContext",
    "MartSpec",
    "Merge",
    "MergeSpec",
    "OverwriteWindow",
    "OverwriteWindowSpec",
    "SCD1Spec",
    "SCD2Spec",
    "Snapshot",
    "SnapshotSpec",
    "Strategy",
    "for_spec",
]

STRATEGIES: dict[str, type[Strategy[Any]]] = {
    cls.name: cls for cls in (FullReload, Append, Merge, SCD1, SCD2, CDC, OverwriteWindow, Snapshot)
}


def for_spec(spec: MartBase) -> Strategy[Any]:
    return STRATEGIES[spec.strategy](spec)
