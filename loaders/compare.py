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

import duckdb

from loaders.errors import LoaderError, SpecError
from loaders.runner import load_mart
from loaders.spec import parse_mart


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
    for day in range(1, days + 1):
        scenario.generate(day, data, truth)
        run_time = scenario.stamp(day + 1, 2)  # each load runs early the next morning
        for name, options in scenario.STRATEGIES.items():
            mart = table_name(name)
            spec = parse_mart(
                mart, {**options, "source": {"path": str(data / "customers.parquet")}, "schema_change": "add_columns"}
            )
            start = time.perf_counter()
            try:
                load_mart(mart, spec, url, run_time=run_time)
            except LoaderError:
                scores[name].failed_days.append(day)
            scores[name].seconds += time.perf_counter() - start
        late = getattr(scenario, "LATE_CHANGE", None)
        with duckdb.connect(str(db), read_only=True) as con:
            for name, options in scenario.STRATEGIES.items():
                if late and day == late["day"] and db_has(con, table_name(name)):
                    view = current_view(options, table_name(name), scenario.KEYS)
                    hits = con.execute(f"select count(*) from ({view}) where {late['column']} = ?", [late["value"]])
                    scores[name].late_caught = bool((hits.fetchone() or (0,))[0])
                if db_has(con, table_name(name)):
                    found = duplicates(con, options, table_name(name), scenario.KEYS)
                    scores[name].duplicates = max(scores[name].duplicates, found)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, options in scenario.STRATEGIES.items():
            score_strategy(con, scores[name], options, scenario, truth)
    finally:
        con.close()
    return list(scores.values())


def current_view(options: dict[str, Any], table: str, keys: list[str]) -> str:
    """The rows a reader takes as 'now' for each way of loading."""
    strategy = options["strategy"]
    if strategy == "append":
        return (
            f"select * from {table} qualify row_number() over "
            f"(partition by {', '.join(keys)} order by updated_at desc) = 1"
        )
    if strategy == "scd2":
        return f"select * from {table} where is_current"
    if strategy == "snapshot":
        return f"select * from {table} where snapshot_date = (select max(snapshot_date) from {table})"
    return f"select * from {table}"


def db_has(con: Any, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where table_name = ?", [table]).fetchone()[0])


def duplicates(con: Any, options: dict[str, Any], table: str, keys: list[str]) -> int:
    view = current_view(options, table, keys)
    return int(
        con.execute(
            f"select count(*) from (select {', '.join(keys)} from ({view}) group by all having count(*) > 1)"
        ).fetchone()[0]
    )


def as_of_view(options: dict[str, Any], table: str, scenario: ModuleType, day: int) -> str | None:
    """The rows as they were at the end of `day`, if the strategy keeps history."""
    if options["strategy"] == "scd2":
        end = scenario.stamp(day + 1, 0)
        return (
            f"select * from {table} where valid_from < timestamp '{end}' "
            f"and (valid_to is null or valid_to >= timestamp '{end}')"
        )
    if options["strategy"] == "snapshot":  # the snapshot taken the next morning
        return f"select * from {table} where snapshot_date = date '{scenario.day_date(day + 1)}'"
    return None


def score_strategy(
    con: Any, score: Score, options: dict[str, Any], scenario: ModuleType, truth: list[dict[int, dict[str, Any]]]
) -> None:
    table, keys, tracked = table_name(score.strategy), scenario.KEYS, scenario.TRACKED
    cols = ", ".join([*keys, *tracked])
    now = {tuple(r) for r in con.execute(f"select {cols} from ({current_view(options, table, keys)})").fetchall()}
    want = {tuple(row[c] for c in [*keys, *tracked]) for row in truth[-1].values()}
    score.correct_now = len(now & want) / len(want) if want else 1.0
    true_keys = {w[: len(keys)] for w in want}
    view_keys = [r[: len(keys)] for r in now]
    score.deletes_missed = len({k for k in view_keys if k not in true_keys})
    score.rows_stored = con.execute(f"select count(*) from {table}").fetchone()[0]
    if as_of_view(options, table, scenario, 1) is None:
        return
    right = total = 0
    for day, state in enumerate(truth, start=1):
        view = as_of_view(options, table, scenario, day)
        then = {tuple(r) for r in con.execute(f"select {cols} from ({view})").fetchall()}
        for row in state.values():
            total += 1
            right += tuple(row[c] for c in [*keys, *tracked]) in then
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
