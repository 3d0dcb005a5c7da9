"""Rows read so far, per mart, for whoever shows progress (the CLI's status line on a terminal).

The load path only reports; it never formats or prints, so a script or Airflow pays nothing but a
call per Arrow batch when nobody listens.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

#: called with (mart, rows in this batch) as each batch of the source is read
Listener = Callable[[str, int], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` for every batch read while the block runs (from any thread)."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def rows_read(mart: str, rows: int) -> None:
    for listener in list(_listeners):
        listener(mart, rows)
