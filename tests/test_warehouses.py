"""Snowflake, BigQuery, Databricks and Trino, tested by compilation (no warehouse runs here).

Every golden case of ``test_golden.py`` (every strategy and method) is loaded twice through the real
runner, adapter and SQLAlchemy dialect over a recording driver (``warehouse_compile.py``); the second
load's statements are pinned in ``tests/golden/<strategy>/<warehouse>.sql``, reviewed by hand against
each warehouse's documented syntax. On top, the rule that makes a load atomic on a warehouse is
checked on every case: no DDL inside the write transaction, which holds every durable write.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_golden import CASES, FIRST, GOLDEN, SECOND, T0, T1, normalise
from warehouse_compile import URLS, compiled_target

from loaders import LoaderError, load_mart, parse_mart

pytest.importorskip("snowflake.sqlalchemy", reason="the warehouse dialects come with the dev extra")

WAREHOUSES = list(URLS)
#: a query on the warehouse itself: the normal path there (the stage is made by CREATE TEMP TABLE AS)
QUERY = "SELECT id, name, updated_at, op, seq FROM raw.customers WHERE :watermark IS NULL OR updated_at > :watermark"
EXTRA = {"append": [("query_in_warehouse", {"cursor": "updated_at", "source": {"query": QUERY}})]}


#: the state tables (watermarks, run log, batch claims) every first load creates, pinned once per warehouse
STATE = GOLDEN / "state"


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_warehouse_state_tables_sql(warehouse: str, request: pytest.FixtureRequest) -> None:
    _, _, first = two_loads(warehouse, "merge", "auto", {"keys": ["id"]}, plan=True)
    got = ";\n".join(normalise(s) for s in first if DDL.match(s) and "_loaders_stage" not in s and "_loaders_" in s)
    path = STATE / f"{warehouse}.sql"
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(got + ";\n")
        return
    assert got + ";\n" == path.read_text(), f"state tables' SQL on {warehouse} changed; see {path}"


DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|TRUNCATE)\b", re.I)


def cases(strategy: str) -> list[tuple[str, dict[str, Any]]]:
    return CASES[strategy] + EXTRA.get(strategy, [])


def two_loads(warehouse: str, strategy: str, case: str, options: dict[str, Any], plan: bool) -> tuple[Any, list[str]]:
    log: list[str] = []
    target = compiled_target(warehouse, log)
    target.catalog["_source"] = [target.column_for_arrow(f.name, f.type) for f in FIRST.schema]
    table = f"g_{strategy}_{case}"
    spec = parse_mart(table, {"strategy": strategy, **options})
    source = None if "source" in options else FIRST
    load_mart(table, spec, target, source=source, run_time=T0)
    first = list(log)
    log.clear()
    result = load_mart(table, spec, target, source=None if source is None else SECOND, run_time=T1, plan=plan)
    return result, log, first


def plan_sql(warehouse: str, strategy: str, case: str, options: dict[str, Any]) -> str:
    try:
        result, _, first = two_loads(warehouse, strategy, case, options, plan=True)
    except LoaderError as e:  # a method the warehouse lacks: the error is pinned too
        return f"-- case: {case}\n-- error: {type(e).__name__}: {e}\n"
    body = ";\n".join(normalise(s) for s in result.sql)
    ddl = ";\n".join(normalise(s) for s in first if DDL.match(s) and "_loaders_" not in s)  # state: STATE
    second = "-- the second load (a plan, so it ends in ROLLBACK):"
    return f"-- case: {case}\n-- the first load's table:\n{ddl};\n{second}\n{body};\n"


@pytest.mark.parametrize("warehouse", WAREHOUSES)
@pytest.mark.parametrize("strategy", list(CASES))
def test_warehouse_golden_sql(warehouse: str, strategy: str, request: pytest.FixtureRequest) -> None:
    got = "\n".join(plan_sql(warehouse, strategy, case, options) for case, options in cases(strategy))
    path = GOLDEN / strategy / f"{warehouse}.sql"
    if request.config.getoption("--update-golden"):
        path.write_text(got)
        return
    assert path.exists(), f"no golden file {path}; run pytest {__file__} --update-golden"
    assert got == path.read_text(), f"SQL of {strategy} on {warehouse} changed; see {path}"


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE)\s+(INTO\s+|FROM\s+)?[`\"]?(\w+)", re.I)


@pytest.mark.parametrize("warehouse", WAREHOUSES)
@pytest.mark.parametrize("strategy", list(CASES))
def test_every_durable_write_is_inside_one_transaction_without_ddl(warehouse: str, strategy: str) -> None:
    """Snowflake commits at DDL, BigQuery and Databricks refuse it in a transaction: a load's DDL
    (stages, derived batches) comes before BEGIN, its drops after COMMIT, and every write to a
    durable table (data, watermark, run log) between them."""
    for case, options in cases(strategy):
        try:
            _, log, _ = two_loads(warehouse, strategy, case, options, plan=False)
        except LoaderError:
            continue  # the golden file pins the refusal
        begins = [i for i, s in enumerate(log) if re.match(r"^\s*(BEGIN|START) TRANSACTION", s)]
        commits = [i for i, s in enumerate(log) if re.match(r"^\s*COMMIT", s)]
        assert len(begins) == 1 and len(commits) == 1, (case, log)
        inside = log[begins[0] + 1 : commits[0]]
        assert not [s for s in inside if DDL.match(s)], (case, inside)
        durable = [
            i for i, s in enumerate(log) if (m := WRITE.match(s)) and not m.group(3).startswith("_loaders_stage")
        ]
        assert durable and all(begins[0] < i < commits[0] for i in durable), (case, log)
        assert any("_loaders_runs" in log[i] for i in durable), case
        temps = [s for s in log if re.match(r"^\s*CREATE TEMPORARY TABLE", s)]
        assert not [s for s in temps if "USING" in s], temps  # Databricks: a temp table is Delta already
        after = log[commits[0] + 1 :]
        assert after and all(DDL.match(s) for s in after), (case, after)  # the stages, dropped
