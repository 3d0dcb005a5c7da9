"""Run jobs that depend on each other: each after those it depends on, up to N at a time.

graphlib orders them and a thread pool runs them: a load spends its time in the database (the
drivers release the GIL), so threads give the parallelism without copying specs into processes.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def run_in_order(
    deps: dict[str, list[str]], work: Callable[[str], T], jobs: int, done: Callable[[str, T], None]
) -> dict[str, T]:
    """``work(name)`` for every name once its dependencies (those in ``deps``) have finished, at most
    ``jobs`` at a time; ``done(name, outcome)`` is called in this thread as each finishes."""
    sorter = graphlib.TopologicalSorter({n: [d for d in ds if d in deps] for n, ds in deps.items()})
    out: dict[str, T] = {}
    if jobs <= 1:  # in this thread: a connection it holds open (a single-writer file) serves every load
        for name in sorter.static_order():
            out[name] = work(name)
            done(name, out[name])
        return out
    sorter.prepare()
    with ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="loaders") as pool:
        running: dict[Future[T], str] = {}
        while sorter.is_active():
            for name in sorter.get_ready():
                running[pool.submit(work, name)] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                out[name] = future.result()
                done(name, out[name])
                sorter.done(name)
    return out
