"""Golden SQL: every statement each strategy runs, per engine, pinned in ``tests/golden/``.

Each case loads a first batch for real, then plans a second one (the plan runs inside a transaction
that is rolled back and records every statement it executed). The statements are compared with
``tests/golden/<strategy>/<engine>.sql``, so a reviewer sees any change to the SQL as a diff.
Regenerate after an intended change with ``pytest tests/test_golden.py --update-golden``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from loaders import LoaderError, load_mart, parse_mart

GOLDEN = Path(__file__).parent / "golden"
T0, T1 = datetime(2026, 1, 1, 2), datetime(2026, 1, 2, 2)


def _rows(ids: list[int], names: str, day: int, op: str = "U") -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([f"{names}{i}" for i in ids]),
            "updated_at": pa.array([datetime(2026, 1, day, i % 24) for i in ids], pa.timestamp("us")),
            "op": pa.array([op] * len(ids)),
            "seq": pa.array([day * 100 + i for i in ids], pa.int64()),
        }
    )


FIRST, SECOND = _rows([1, 2, 3], "a", 1), _rows([2, 3, 4], "b", 2)

#: strategy -> [(case name, options)]; every case of a strategy goes into that strategy's file
CASES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "full": [("full", {})],
    "append": [
        ("cursor", {"cursor": "updated_at"}),
        ("lookback", {"cursor": "updated_at", "keys": ["id"], "lookback": "1 day"}),
    ],
    "merge": [
        ("auto", {"keys": ["id"]}),
        ("delete_missing", {"keys": ["id"], "delete_missing": True}),
        ("update_insert", {"keys": ["id"], "method": "update_insert"}),
        ("delete_insert", {"keys": ["id"], "method": "delete_insert"}),
        ("merge", {"keys": ["id"], "method": "merge"}),
        ("upsert", {"keys": ["id"], "method": "upsert"}),
    ],
    "scd1": [("scd1", {"keys": ["id"]})],
    "scd2": [
        ("load_time", {"keys": ["id"], "track": ["name"]}),
        ("effective_from", {"keys": ["id"], "effective_from": "updated_at", "deletes": "close"}),
    ],
    "cdc": [
        ("hard", {"keys": ["id"], "sequence": "seq"}),
        ("soft", {"keys": ["id"], "sequence": "seq", "deletes": "soft"}),
    ],
    "overwrite_window": [("day", {"partition_by": "updated_at"})],
    "snapshot": [("retain", {"retain": 2})],
}


def normalise(statement: str) -> str:
    """Run-specific names out (stage tables carry the run id), whitespace folded per line."""
    statement = re.sub(r"_loaders_stage_[0-9a-f]{8}", "_loaders_stage", statement)
    return "\n".join(line.rstrip() for line in statement.strip().splitlines() if line.strip())


def plan_sql(engine: Any, strategy: str, case: str, options: dict[str, Any]) -> str:
    table = f"g_{strategy}_{case}"
    spec = parse_mart(table, {"strategy": strategy, **options})
    try:
        load_mart(table, spec, engine.url, source=FIRST, run_time=T0)
        result = load_mart(table, spec, engine.url, source=SECOND, run_time=T1, plan=True)
    except LoaderError as e:  # e.g. a method the engine lacks: the error is pinned too
        return f"-- case: {case}\n-- error: {type(e).__name__}: {e}\n"
    body = ";\n".join(normalise(s) for s in result.sql)
    return f"-- case: {case}\n{body};\n"


@pytest.mark.parametrize("strategy", list(CASES))
def test_golden_sql(engine: Any, strategy: str, request: pytest.FixtureRequest) -> None:
    got = "\n".join(plan_sql(engine, strategy, case, options) for case, options in CASES[strategy])
    path = GOLDEN / strategy / f"{engine.name}.sql"
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
        return
    assert path.exists(), f"no golden file {path}; run pytest {__file__} --update-golden"
    assert got == path.read_text(), f"SQL of {strategy} on {engine.name} changed; see {path}"
