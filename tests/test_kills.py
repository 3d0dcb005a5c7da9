"""kill -9 anywhere: a load killed at any point leaves its mart exactly as before it or exactly as after it.

Each trial loads a first batch into a fresh mart (state S0), forks a child that loads a second batch,
and kills the child with SIGKILL at a chosen point: paused before its n-th statement, at the commit,
or a random few milliseconds after a statement (so inside statements, inside the COPY or the commit).
Then it checks: the rows are exactly S0 or exactly S1 (S1 comes from the same two loads on a reference
mart); the watermark matches the rows; the run log shows the killed run as succeeded only if its rows
are there; the target opens; the next run completes with S1. Children are forked from this process,
so a kill costs no interpreter start-up.

``LOADERS_KILLS`` (default 24 per strategy and engine, 240 over DuckDB and PostgreSQL) sets the count;
the README's figures come from ``LOADERS_KILLS=200 pytest tests/test_kills.py``.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
import uuid
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from loaders import LoaderError, TargetLocked, load_mart, parse_mart

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("LOADERS_KILLS", "24"))
T0, T1 = datetime(2026, 1, 1, 2), datetime(2026, 1, 2, 2)

#: strategy -> options, and the two batches (every strategy changes, adds and, where it can, removes rows)
STRATEGIES: dict[str, dict[str, Any]] = {
    "full": {"strategy": "full"},
    "append": {"strategy": "append", "cursor": "ts"},
    "merge": {"strategy": "merge", "keys": ["id"], "delete_missing": True},
    "scd2": {"strategy": "scd2", "keys": ["id"], "deletes": "close"},
    "cdc": {"strategy": "cdc", "keys": ["id"], "sequence": "seq"},
}


def batch(ids: range, label: str, day: int) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "v": pa.array([f"{label}{i}" for i in ids]),
            "ts": pa.array([datetime(2026, 1, day, i % 24) for i in ids], pa.timestamp("us")),
            "op": pa.array(["D" if i % 7 == 0 and day == 2 else "U" for i in ids]),
            "seq": pa.array([day * 100_000 + i for i in ids], pa.int64()),
        }
    ).slice(0, n)


B0, B1 = batch(range(0, 2000), "a", 1), batch(range(1000, 3000), "b", 2)


def rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(_plain(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.select(sa.text("*")).select_from(sa.table(table)))
            return sorted((tuple(r) for r in found), key=lambda r: tuple(str(v) for v in r))
    finally:
        engine.dispose()


def state_rows(url: str, mart: str) -> tuple[Any, list[str]]:
    engine = sa.create_engine(_plain(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            wm = conn.execute(sa.text("select value from _loaders_watermarks where mart = :m"), {"m": mart}).scalar()
            runs = conn.execute(sa.text("select status from _loaders_runs where mart = :m"), {"m": mart}).scalars()
            return wm, sorted(runs)
    finally:
        engine.dispose()


def _plain(url: str) -> str:
    return url


def load(url: str, mart: str, strategy: str, source: pa.Table, when: datetime) -> Any:
    spec = parse_mart(mart, {**STRATEGIES[strategy], "table": mart})
    return load_mart(mart, spec, url, source=source, run_time=when)


def child(url: str, mart: str, strategy: str, mode: str, n: int, pipe: Any) -> None:
    """The load to be killed: it tells the parent when it reaches its point, then pauses or goes on."""
    seen = {"n": 0, "commits": 0}

    def at(point: str, pause: bool) -> None:
        pipe.send(point)
        if pause:
            time.sleep(60)

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen["n"] += 1
        if seen["n"] == n and mode in ("pause", "after"):
            at(f"statement {n}: {sql.split()[0]}", pause=mode == "pause")

    def commit(conn: Any) -> None:
        seen["commits"] += 1
        if mode == "commit" and seen["commits"] == n + 1:
            at(f"commit {seen['commits']}", pause=False)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    sa.event.listen(sa.engine.Engine, "commit", commit)
    try:
        load(url, mart, strategy, B1, T1)
        pipe.send("done")
    except LoaderError as e:
        pipe.send(f"error {e}")


def counted(url: str, mart: str, strategy: str) -> tuple[int, int]:
    """Statements and commits of one second-batch load: the range the kills aim into."""
    seen = {"statements": 0, "commits": 0}

    def statement(*args: Any) -> None:
        seen["statements"] += 1

    def commit(*args: Any) -> None:
        seen["commits"] += 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    sa.event.listen(sa.engine.Engine, "commit", commit)
    try:
        load(url, mart, strategy, B1, T1)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", statement)
        sa.event.remove(sa.engine.Engine, "commit", commit)
    return seen["statements"], seen["commits"]


def trial(
    url: str, strategy: str, expected: list[Any], after_wm: Any, span: tuple[int, int], rng: random.Random
) -> str:
    """One kill; returns where it landed ('done' if the load finished first)."""
    mart = f"k_{uuid.uuid4().hex[:8]}"
    load(url, mart, strategy, B0, T0)
    before = rows(url, mart)
    mode = rng.choice(["pause", "pause", "after", "commit"])
    n = rng.randint(1, span[1]) - 1 if mode == "commit" else rng.randint(1, span[0])
    parent_end, child_end = multiprocessing.Pipe()
    proc = multiprocessing.get_context("fork").Process(target=child, args=(url, mart, strategy, mode, n, child_end))
    proc.start()
    landed = parent_end.recv() if parent_end.poll(60) else "timeout"
    assert not landed.startswith(("error", "timeout")), landed
    if landed.startswith("statement") and mode == "after" or landed.startswith("commit"):
        time.sleep(rng.uniform(0, 0.02))  # somewhere inside the statement, the COPY or the commit
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    after = rows(url, mart)
    wm, runs = state_rows(url, mart)
    if after == before:
        assert "success" not in runs[1:] and runs.count("success") == 1, f"{landed}: killed run logged as success"
    else:
        assert after == expected, f"{landed}: rows are neither before nor after the load"
        assert runs.count("success") == 2, f"{landed}: rows committed without their run-log row"
        if after_wm is not None:
            assert wm == after_wm, f"{landed}: watermark does not match the rows"
    recover(url, mart, strategy)
    assert rows(url, mart) == expected, f"{landed}: the next run did not complete the load"
    return landed


def recover(url: str, mart: str, strategy: str) -> None:
    """The next run after the kill; a server may hold the dead session's lock for a moment."""
    deadline = time.monotonic() + 30
    while True:
        try:
            load(url, mart, strategy, B1, T1)
            return
        except TargetLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "mysql", "sqlite"], indirect=True)
def test_kill_9_anywhere(engine: Any, strategy: str) -> None:
    kills = KILLS if engine.name in ("duckdb", "postgres") else max(KILLS // 3, 4)
    ref = f"ref_{strategy}"
    load(engine.url, ref, strategy, B0, T0)
    span = counted(engine.url, ref, strategy)
    expected = rows(engine.url, ref)
    after_wm = state_rows(engine.url, ref)[0]
    rng = random.Random(f"{engine.name}-{strategy}")
    landed: list[str] = []
    while len([x for x in landed if x != "done"]) < kills and len(landed) < kills * 3:
        landed.append(trial(engine.url, strategy, expected, after_wm, span, rng))
    points = sorted({x.split(":")[0] for x in landed if x != "done"}, key=lambda p: (p.split()[0], int(p.split()[1])))
    print(f"{engine.name} {strategy}: {len(landed)} trials, {sum(x != 'done' for x in landed)} kills at {points}")
    assert sum(x != "done" for x in landed) >= kills
