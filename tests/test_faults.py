"""Faults a deployment meets: the server going away mid-load, a full disk, several runs at once.

Each ends the same way: a one-line error (transient where a retry can fix it), nothing half-applied,
and the next run, once the fault is gone, loads exactly the right rows.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from pgcluster import throwaway_postgres

from loaders import Append, LoaderError, Merge, TargetError, TargetLocked, TransientTargetError, load_mart, parse_mart

pytestmark = pytest.mark.slow


def batch(first: int, n: int, label: str, day: int) -> pa.Table:
    ids = range(first, first + n)
    noise = random.Random(first)  # values that do not compress away (the disk-full test needs bytes)
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "v": pa.array([f"{label}{noise.getrandbits(160):040x}" for _ in ids]),
            "ts": pa.array([datetime(2026, 1, day)] * n, pa.timestamp("us")),
        }
    )


def table_rows(url: str, table: str = "t") -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(f"select id, v, ts from {table}")))
    finally:
        engine.dispose()


def watermark(url: str) -> Any:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("select value from _loaders_watermarks where mart = 't'")).scalar()
    finally:
        engine.dispose()


@contextlib.contextmanager
def on_statement(prefix: str, action: Any) -> Iterator[None]:
    """Run ``action`` once, just before the first statement starting with ``prefix``."""
    fired = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith(prefix) and not fired:
            fired.append(statement)
            action()

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", hook)
    assert fired, f"no statement started with {prefix!r}"


# --------------------------------------------------------------------------- a server that goes away
@pytest.mark.parametrize("mode", ["fast", "immediate"])
@pytest.mark.parametrize("phase", ["staging", "strategy"])
def test_postgres_going_away_mid_load(phase: str, mode: str) -> None:
    """The server is stopped while the batch is copied in (COPY) or while the merge runs: a transient
    error; after the server is back, the mart and its watermark are as before and the rerun is right."""
    with throwaway_postgres() as pg:
        loader = Merge(keys=["id"], cursor="ts")
        loader.run(batch(0, 1000, "a", 1), pg.url, table="t")
        before, mark = table_rows(pg.url), watermark(pg.url)
        second = batch(500, 300_000 if phase == "staging" else 2000, "b", 2)
        stopper: list[threading.Thread] = []

        def stop() -> None:
            if phase == "strategy":
                pg.stop(mode)  # synchronously: the UPDATE about to run meets a dead server
                return
            thread = threading.Thread(target=lambda: (time.sleep(0.05), pg.stop(mode)))  # mid-COPY
            thread.start()
            stopper.append(thread)

        started = time.monotonic()
        marker = "CREATE TEMPORARY TABLE" if phase == "staging" else "UPDATE"
        with on_statement(marker, stop), pytest.raises(TransientTargetError) as info:
            loader.run(second, pg.url, table="t")
        for thread in stopper:
            thread.join()
        assert "\n" not in str(info.value) and str(info.value).startswith("mart t: ")
        assert time.monotonic() - started < 60
        pg.start()
        assert table_rows(pg.url) == before and watermark(pg.url) == mark
        loader.run(second, pg.url, table="t")
        assert len(table_rows(pg.url)) == 500 + len(second)


# --------------------------------------------------------------------------- a full disk
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs: DuckDB's file, its WAL and its temp files all live on it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI and the dev machines run as root)")
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_duckdb_disk_full(small_disk: Path) -> None:
    url = f"duckdb:///{small_disk / 'w.duckdb'}"
    loader = Append(cursor="ts")
    loader.run(batch(0, 1000, "a", 1), url, table="t")
    before, mark = table_rows(url), watermark(url)
    big = batch(1000, 600_000, "b", 2)  # 37 MB of random text, about 12 MB in DuckDB: more than the disk
    with pytest.raises(LoaderError) as info:
        loader.run(big, url, table="t")
    assert isinstance(info.value, TargetError) and not info.value.transient
    assert "\n" not in str(info.value) and "mart t: " in str(info.value)
    assert table_rows(url) == before and watermark(url) == mark  # the file still opens, unchanged
    subprocess.run(["mount", "-o", "remount,size=512m", str(small_disk)], check=True)
    loader.run(big, url, table="t")
    assert len(table_rows(url)) == 601_000


# --------------------------------------------------------------------------- several runs at once
def _load_in_process(url: str, mart: str, table: str, key: str, start: Any, out: Any) -> None:
    spec = parse_mart(mart, {"strategy": "append", "table": table})
    rows = [{"id": i, "v": f"{mart}-{i}", "ts": datetime(2026, 1, 1)} for i in range(500)]
    start.wait()
    try:
        result = load_mart(mart, spec, url, source=rows, batch_key=key)
        out.put(result.status)
    except TargetLocked:
        out.put("locked")
    except LoaderError as e:
        out.put(f"error {e}")


def _race(url: str, jobs: list[tuple[str, str, str]]) -> list[str]:
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_load_in_process, args=(url, *job, start, out)) for job in jobs]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    return sorted(out.get(timeout=5) for _ in procs)


def test_concurrent_runs_of_one_batch_apply_it_once(engine: Any) -> None:
    """Four processes load the same batch into one mart at once (an Airflow task running twice): one
    applies it; the others fail fast as locked or find it applied. The rows are there exactly once."""
    outcomes = _race(engine.url, [("m", "t", "dag/run/task/-1")] * 4)
    assert outcomes.count("success") == 1, outcomes
    if engine.name == "generic":  # no error codes known there: the file lock is a terminal error
        outcomes = ["locked" if o.startswith("error") and "locked" in o else o for o in outcomes]
    assert set(outcomes) <= {"success", "skipped", "locked"}, outcomes
    assert len(engine.rows("t", ["id"])) == 500


@pytest.mark.parametrize("engine", ["postgres", "mysql"], indirect=True)  # a file has one writer
def test_different_marts_of_one_server_load_in_parallel(engine: Any) -> None:
    outcomes = _race(engine.url, [(f"m{i}", f"t{i}", f"k{i}") for i in range(3)])
    assert outcomes == ["success"] * 3
    for i in range(3):
        assert len(engine.rows(f"t{i}", ["id"])) == 500


def _open_new_files(urls: list[str], barrier: Any, out: Any) -> None:
    """What the adapter's connect does, less SQLAlchemy's first-connect queries (which would make the
    processes meet the window less often): make the file whole, then DuckDB opens it; for each URL
    in turn, at the same moment as the other processes."""
    import duckdb

    from loaders.targets import open_target

    for url in urls:
        target = open_target(url)
        barrier.wait()
        try:
            target.before_connect()
            duckdb.connect(target.engine.url.database).close()
            out.put((url, "opened"))
        except duckdb.Error as e:
            out.put((url, "locked" if target.classify(e) is TargetLocked else f"error {e}"))


def test_processes_creating_one_duckdb_file_at_once_never_see_it_half_made(tmp_path: Path) -> None:
    """Airflow tasks of marts in a new DuckDB file start at once. DuckDB creates a file by opening
    the path and then writing its header; a process opening it in between reads an empty file and
    fails with "not a valid DuckDB database file" (CI met it in the four-process test above; without
    the fix 4, 7 and 9 of these 300 rounds met it in three runs). Each round races four processes on
    a new path: each opens the file or finds it locked, none finds it broken, only the database is left."""
    rounds = [tmp_path / f"r{n}" for n in range(300)]
    for folder in rounds:
        folder.mkdir()
    urls = [f"duckdb:///{folder / 'marts.duckdb'}" for folder in rounds]
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(4, timeout=60), ctx.Queue()
    procs = [ctx.Process(target=_open_new_files, args=(urls, barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    outcomes: dict[str, list[str]] = {url: [] for url in urls}
    for _ in range(4 * len(urls)):
        url, outcome = out.get(timeout=60)
        outcomes[url].append(outcome)
    for p in procs:
        p.join(60)
    broken = {url: o for url, o in outcomes.items() if "opened" not in o or not set(o) <= {"opened", "locked"}}
    assert not broken, f"{len(broken)} of {len(urls)} rounds: {broken}"
    assert all(os.listdir(folder) == ["marts.duckdb"] for folder in rounds)
