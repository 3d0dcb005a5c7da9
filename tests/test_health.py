"""Load health checks: each check on every engine, warn vs fail, and the incidents of the model-risk
scenario caught on the days they are injected."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from loaders import SCD2, Append, Merge, parse_mart
from loaders.health import HealthCheckError

ROOT = Path(__file__).parent.parent


def day_rows(day: int, n: int = 10, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": i, "d": date(2026, 1, day), "v": i, **extra} for i in range(n)]


def empty() -> Any:
    import pyarrow as pa

    return pa.table({"id": pa.array([], pa.int64()), "d": pa.array([], pa.date32()), "v": pa.array([], pa.int64())})


def append_with(checks: dict[str, Any]) -> Append:
    return Append(cursor="d", keys=["id", "d"], checks=checks)


def run(engine: Any, loader: Any, rows: Any, day: int) -> Any:
    return loader.run(rows, engine.url, table="t", run_time=datetime(2026, 1, day + 1, 6))


def test_freshness(engine: Any) -> None:
    a = append_with({"freshness": {"max_age": "36 hours"}})
    assert run(engine, a, day_rows(1), 1).checks[0]["status"] == "pass"
    with pytest.raises(HealthCheckError, match=r"freshness: newest d is 2026-01-01 \(2.0 days old"):
        run(engine, a, empty(), 2)  # nothing new for a day: the table goes stale
    assert engine.scalar("select count(*) from _loaders_runs where status = 'failed'") == 1


def test_volume_per_window_and_empty_runs(engine: Any) -> None:
    a = append_with({"volume": {"max_change": "50%", "per": "d"}})
    for day in (1, 2, 3):
        run(engine, a, day_rows(day), day)
    catch_up = day_rows(4) + day_rows(5)  # two days in one batch: 10 rows per day, not a spike
    assert run(engine, a, catch_up, 5).checks[0]["status"] == "pass"
    with pytest.raises(HealthCheckError, match=r"volume: 3 rows per d against a median of 10"):
        run(engine, a, day_rows(6, n=3), 6)
    e = append_with({"volume": {"empty_runs": 2}, "on_failure": "warn"})
    run(engine, e, empty(), 7)
    r = run(engine, e, empty(), 8)
    assert r.status == "success" and r.checks[0]["status"] == "warn" and "2 runs in a row" in r.checks[0]["detail"]


def test_null_rate_jump_fails_and_changes_nothing(engine: Any) -> None:
    a = append_with({"null_rate": {"max_increase": "30%"}})
    run(engine, a, day_rows(1), 1)
    before = engine.rows("t"), engine.rows("_loaders_watermarks")
    with pytest.raises(HealthCheckError, match=r"null_rate:v: v is 100% NULL in this batch against 0% in the table"):
        run(engine, a, [dict(r, v=None) for r in day_rows(2)], 2)
    assert (engine.rows("t"), engine.rows("_loaders_watermarks")) == before


def test_unique_keys_in_the_table(engine: Any) -> None:
    a = Append(keys=["id"], checks={"unique_keys": True})
    run(engine, a, [{"id": 1}, {"id": 2}], 1)
    with pytest.raises(HealthCheckError, match=r"unique_keys: 1 keys \(id\) appear more than once"):
        run(engine, a, [{"id": 2}], 2)
    s = SCD2(keys=["id"], checks={"unique_keys": True})  # SCD2: one *current* version per key
    for day, city in ((1, "A"), (2, "B")):
        assert s.run([{"id": 1, "city": city}], engine.url, table="s", run_time=datetime(2026, 1, day)).ok


def test_warn_keeps_the_load_and_logs_the_checks(engine: Any) -> None:
    m = Merge(keys=["id"], checks={"null_rate": {}, "on_failure": "warn"})
    m.run([{"id": 1, "v": "a"}], engine.url, table="t")
    r = m.run([{"id": 1, "v": None}], engine.url, table="t")
    assert r.status == "success" and [c["status"] for c in r.checks] == ["warn"]
    logged = engine.scalar("select checks from _loaders_runs where updated = 1")
    assert json.loads(logged)[0]["name"] == "null_rate:v"


def test_check_options_validate() -> None:
    from loaders import SpecError

    for options, pattern in [
        ({"checks": {"freshness": {"max_age": "1 day"}}}, "needs a `column`"),
        ({"checks": {"volume": {}}}, "needs `max_change` and/or `empty_runs`"),
        ({"checks": {"unique_keys": True}}, "needs `keys`"),
        ({"checks": {"null_rate": {"max_increase": 2}}}, "max_increase"),
        ({"checks": {"colume": {}}}, "unknown option 'colume'"),
    ]:
        with pytest.raises(SpecError, match=pattern):
            parse_mart("m", {"strategy": "full", **options})


def test_model_risk_incidents_are_caught_on_their_days(tmp_path: Path) -> None:
    folder = tmp_path / "model_risk"
    shutil.copytree(ROOT / "examples" / "model_risk", folder, ignore=shutil.ignore_patterns("data", "*.duckdb"))
    sys.path.insert(0, str(folder))
    try:
        from simulate import simulate

        events = simulate(14, folder)
    finally:
        sys.path.remove(str(folder))
        for module in ("simulate", "generate"):
            sys.modules.pop(module, None)
    failures = {(day, mart): outcome for day, mart, outcome in events if mart != "(upstream)" and outcome != "ok"}
    assert set(failures) == {
        (6, "bureau_features"),
        (7, "bureau_features"),
        (8, "bureau_features"),
        (9, "transaction_features"),
        (11, "model_scores"),
    }
    assert "freshness" in failures[(6, "bureau_features")] and "volume: 0 rows" in failures[(6, "bureau_features")]
    assert "null_rate:merchant_risk" in failures[(9, "transaction_features")]
    assert "unique_keys" in failures[(11, "model_scores")]
    import duckdb

    con = duckdb.connect(str(folder / "model_risk.duckdb"), read_only=True)
    try:  # after the upstream fixes every day is loaded once, with no NULL column and one score per key
        assert con.execute("select count(distinct as_of), count(*) from bureau_features").fetchone() == (14, 2800)
        assert con.execute("select count(num_inquiries) from bureau_features").fetchone() == (600,)  # days 12-14
        assert con.execute("select count(*) from transaction_features where merchant_risk is null").fetchone() == (0,)
        assert con.execute("select count(*), count(distinct (customer_id, as_of)) from model_scores").fetchone() == (
            2800,
            2800,
        )
        assert con.execute("select distinct model_version from model_scores").fetchall() == [("pd-v3.1",)]
        # the account dimension: account 5 closed on day 4 and reopened on day 10, versions not overlapping
        assert con.execute(
            "select count(*), count(*) filter (where is_current), min(valid_to) < max(valid_from) "
            "from dim_account where customer_id = 5"
        ).fetchone() == (2, 1, True)
    finally:
        con.close()
