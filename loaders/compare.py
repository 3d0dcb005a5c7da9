"""``loaders compare``: one simulated history, every applicable strategy, scored against the truth.

A scenario folder has a ``scenario.py`` with ``truth(days)`` (the true rows at the end of each day),
``generate(day, out, truth)`` (that day's source extract), ``stamp(day, hour)``, ``KEYS``, ``TRACKED``
and ``STRATEGIES`` (name -> mart options). Each strategy loads into its own table of one DuckDB file,
day by day, and is scored on what a data engineer asks of it: are the rows right at the end, can it say
what a row was on an earlier day, did it drop deleted keys, does it hold duplicates, how much does it
store and how long did it take. It is the answer sheet for "why not just truncate and reload?".
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from loaders.errors import LoaderError, SpecError
from loaders.project import parse_mart
from loaders.runner import load_mart
from loaders.spec import MartBase
from loaders.strategies import for_spec
from loaders.targets import TableRef, Target, open_target


@dataclass
class Score:
    strategy: str
    correct_now: float = 0.0  #: share of the true current rows the table's current view has exactly
    history: float | None = None  #: share of (day, key) pairs answered right; None: keeps no history
    deletes_missed: int = 0  #: keys deleted at the source still in the current view
    duplicates: int = 0  #: keys more than once in the current view, on the worst day
    rows_stored: int = 0
    seconds: float = 0.0
    failed_days: list[int] = field(default_factory=list)
    #: did the change that arrived a day late (behind the watermark) reach the current view?
    late_caught: bool | None = None


def load_scenario(folder: Path) -> ModuleType:
    path = folder / "scenario.py"
    if not path.exists():
        raise SpecError(f"{folder} has no scenario.py (see examples/ecommerce)")
    spec = importlib.util.spec_from_file_location(f"loaders_scenario_{folder.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_name(strategy: str) -> str:
    return "cmp_" + re.sub(r"[^a-z0-9]+", "_", strategy.lower()).strip("_")


def compare(folder: Path, days: int, work: Path) -> list[Score]:
    scenario = load_scenario(folder)
    truth = scenario.truth(days)
    shutil.rmtree(work, ignore_errors=True)
    data, db = work / "data", work / "compare.duckdb"
    url = f"duckdb:///{db}"
    scores = {name: Score(name) for name in scenario.STRATEGIES}
    specs = {}
    for name, options in scenario.STRATEGIES.items():
        source = {"path": str(data / "customers.parquet")}
        specs[name] = parse_mart(table_name(name), {**options, "source": source, "schema_change": "add_columns"})
    target = open_target(url)
    try:
        for day in range(1, days + 1):
            scenario.generate(day, data, truth)
            run_time = scenario.stamp(day + 1, 2)  # each load runs early the next morning
            for name, spec in specs.items():
                start = time.perf_counter()
                try:
                    load_mart(table_name(name), spec, target, run_time=run_time)
                except LoaderError:
                    scores[name].failed_days.append(day)
                scores[name].seconds += time.perf_counter() - start
            with target.connect() as conn:
                for name, spec in specs.items():
                    check_day(conn, target, scores[name], spec, scenario, day)
        with target.connect() as conn:
            for name, spec in specs.items():
                score_strategy(conn, target, scores[name], spec, scenario, truth)
    finally:
        target.close()
    return list(scores.values())


def table_of(conn: sa.Connection, target: Target, name: str) -> sa.Table | None:
    columns = target.describe_table(conn, TableRef(name))
    return None if columns is None else target.sa_table(TableRef(name), columns)


def current_view(spec: MartBase, table: sa.Table, keys: list[str]) -> sa.Subquery:
    """The rows a reader takes as 'now': the strategy's current rows, and from an incremental log (a
    mart with a cursor) the newest row per key."""
    rows = for_spec(spec).current_rows(table)
    cursor = spec.cursor_column
    if cursor:
        now = rows.subquery()
        newest = sa.func.row_number().over(partition_by=[now.c[k] for k in keys], order_by=now.c[cursor].desc())
        ranked = sa.select(now, newest.label("_newest")).subquery()
        rows = sa.select(*(ranked.c[c.name] for c in table.columns)).where(ranked.c._newest == 1)
    return rows.subquery("now")


def check_day(
    conn: sa.Connection, target: Target, score: Score, spec: MartBase, scenario: ModuleType, day: int
) -> None:
    """After each day: duplicates in the current view, and whether the late change was caught."""
    table = table_of(conn, target, spec.table or table_name(score.strategy))
    if table is None:
        return
    view, keys = current_view(spec, table, scenario.KEYS), scenario.KEYS
    late = getattr(scenario, "LATE_CHANGE", None)
    if late and day == late["day"]:
        hits = conn.execute(sa.select(sa.func.count()).where(view.c[late["column"]] == late["value"])).scalar()
        score.late_caught = bool(hits)
    repeated = sa.select(*(view.c[k] for k in keys)).group_by(*(view.c[k] for k in keys)).having(sa.func.count() > 1)
    found = conn.execute(sa.select(sa.func.count()).select_from(repeated.subquery())).scalar() or 0
    score.duplicates = max(score.duplicates, int(found))


def score_strategy(
    conn: sa.Connection,
    target: Target,
    score: Score,
    spec: MartBase,
    scenario: ModuleType,
    truth: list[dict[int, dict[str, Any]]],
) -> None:
    table = table_of(conn, target, spec.table or table_name(score.strategy))
    if table is None:
        return
    keys, cols = scenario.KEYS, [*scenario.KEYS, *scenario.TRACKED]

    def rows(view: sa.FromClause) -> set[tuple[Any, ...]]:
        return {tuple(r) for r in conn.execute(sa.select(*(view.c[c] for c in cols)))}

    now = rows(current_view(spec, table, keys))
    want = {tuple(row[c] for c in cols) for row in truth[-1].values()}
    score.correct_now = len(now & want) / len(want) if want else 1.0
    true_keys = {w[: len(keys)] for w in want}
    score.deletes_missed = len({r[: len(keys)] for r in now if r[: len(keys)] not in true_keys})
    score.rows_stored = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)
    strategy = for_spec(spec)
    if strategy.as_of(table, scenario.stamp(1, 0)) is None:
        return
    right = total = 0
    for day, state in enumerate(truth, start=1):
        then_query = strategy.as_of(table, scenario.stamp(day + 1, 0))  # the end of that day
        assert then_query is not None
        then = rows(then_query.subquery())
        for row in state.values():
            total += 1
            right += tuple(row[c] for c in cols) in then
    score.history = right / total if total else None


def write_chart(scores: list[Score], path: Path) -> None:
    """Four small bar charts side by side: correctness, history, rows stored, time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s.strategy for s in scores]
    panels: list[tuple[str, list[float]]] = [
        ("true rows present at the end (%)", [100 * s.correct_now for s in scores]),
        ("history answered (%)", [100 * (s.history or 0) for s in scores]),
        ("rows stored", [s.rows_stored for s in scores]),
        ("seconds (all days)", [s.seconds for s in scores]),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(16, 4.5), sharey=True)
    for ax, (title, values) in zip(axes, panels, strict=True):
        ax.barh(names, values, color="#4a7fb5")
        ax.set_title(title, fontsize=10)
        for i, v in enumerate(values):
            label = (
                " no history"
                if title.startswith("history") and scores[i].history is None
                else (f" {v:.0f}" if v >= 10 else f" {v:.2f}")
            )
            ax.text(v, i, label, va="center", fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("Same source history, every strategy", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
