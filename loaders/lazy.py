"""A module imported on first use, for pyarrow: a DuckDB load of a Parquet file never needs it (the
engine reads the file itself), and importing it, with the numpy it pulls in, cost 0.1 s of every
`loaders run`. Modules write ``pa = lazy("pyarrow")`` under ``if not TYPE_CHECKING`` so type checkers
still see the real module."""

from __future__ import annotations

import importlib
from typing import Any


class lazy:  # noqa: N801 - it stands where a module name would
    """Stands for a module until an attribute is read, then imports it (once; later reads are a dict
    lookup in ``sys.modules``). Nothing is put into ``sys.modules`` early, so other code sees the
    module imported exactly when it is."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
