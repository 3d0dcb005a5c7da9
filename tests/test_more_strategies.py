"""overwrite_window, snapshot, scd1, append's skip_existing, backfill windows and reset-watermark, on every
engine; exact rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from loaders import SCD1, Append, Merge, OverwriteWindow, Snapshot, SpecError, load_mart, parse_mart

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)


def test_overwrite_window_replaces_exactly_the_days_in_the_batch(engine: Any) -> None:
    w = OverwriteWindow(partition_by="day")
    w.run([{"day": D1, "v": 1}, {"day": D1, "v": 2}, {"day": D2, "v": 3}, {"day": D3, "v": 4}], engine.url, table="t")
    r = w.run([{"day": D2, "v": 30}, {"day": D2, "v": 31}], engine.url, table="t")  # late data for day 2 only
    assert (r.deleted, r.inserted) == (1, 2)
    assert engine.rows("t") == [(D1, 1), (D1, 2), (D2, 30), (D2, 31), (D3, 4)]
    r = w.run([{"day": D2, "v": 30}, {"day": D2, "v": 31}], engine.url, table="t")  # a rerun: same rows
    assert engine.rows("t") == [(D1, 1), (D1, 2), (D2, 30), (D2, 31), (D3, 4)]


def test_overwrite_window_by_month_of_a_timestamp(engine: Any) -> None:
    w = OverwriteWindow(partition_by="ts", grain="month")
    if engine.name == "generic":
        from loaders import UnsupportedByTarget

        with pytest.raises(UnsupportedByTarget, match="grain: month"):
            w.run([{"ts": datetime(2026, 1, 5, 10), "v": 1}], engine.url, table="t")
        pytest.skip("standard SQL has no month truncation (UnsupportedByTarget checked)")
    w.run([{"ts": datetime(2026, 1, 5, 10), "v": 1}, {"ts": datetime(2026, 2, 1, 0), "v": 2}], engine.url, table="t")
    r = w.run([{"ts": datetime(2026, 1, 31, 23), "v": 10}], engine.url, table="t")
    assert r.deleted == 1
    assert engine.rows("t") == [(datetime(2026, 1, 31, 23), 10), (datetime(2026, 2, 1, 0), 2)]


def test_snapshot_stamps_replaces_and_retains(engine: Any) -> None:
    s = Snapshot(retain=2)
    for day, rows in ((1, [{"id": 1}, {"id": 2}]), (2, [{"id": 1}]), (2, [{"id": 1}, {"id": 3}]), (3, [{"id": 4}])):
        s.run(rows, engine.url, table="t", run_time=datetime(2026, 1, day, 6))
    assert engine.rows("t") == [(1, D2), (3, D2), (4, D3)]  # day 2 replaced by its rerun, day 1 expired


def test_scd1_is_merge_by_another_name(engine: Any) -> None:
    SCD1(keys=["id"]).run([{"id": 1, "v": "a"}], engine.url, table="t")
    r = SCD1(keys=["id"]).run([{"id": 1, "v": "b"}, {"id": 2, "v": "c"}], engine.url, table="t")
    assert (r.strategy, r.updated, r.inserted) == ("scd1", 1, 1)
    assert engine.rows("t") == [(1, "b"), (2, "c")]


def test_append_skip_existing(engine: Any) -> None:
    a = Append(keys=["id"], skip_existing=True)
    a.run([{"id": 1, "v": "first"}], engine.url, table="t")
    r = a.run([{"id": 1, "v": "again"}, {"id": 2, "v": "new"}], engine.url, table="t")
    assert (r.inserted, r.unchanged) == (1, 1)
    assert engine.rows("t") == [(1, "first"), (2, "new")]


def test_backfill_window_reloads_idempotently(engine: Any) -> None:
    rows = [{"id": i, "ts": datetime(2026, 1, i)} for i in range(1, 6)]
    a = Append(cursor="ts")
    a.run(rows[:2], engine.url, table="t")
    a.run(rows[3:], engine.url, table="t")  # day 3 was missed: the watermark is already past it
    assert [r[0] for r in engine.rows("t")] == [1, 2, 4, 5]
    for _ in range(2):  # a backfill of days 2..3, twice: no duplicates, and the watermark stays
        r = load_mart("t", a.spec, engine.url, source=rows, window=("2026-01-02", "2026-01-04"))
        assert r.watermark_after == datetime(2026, 1, 5)
    assert [r[0] for r in engine.rows("t")] == [1, 2, 3, 4, 5]


def test_backfill_of_a_window_mart_and_a_merge(engine: Any) -> None:
    w = OverwriteWindow(partition_by="day")
    w.run([{"day": D1, "v": 1}, {"day": D2, "v": 2}], engine.url, table="w")
    load_mart("w", w.spec, engine.url, source=[{"day": D1, "v": 10}, {"day": D2, "v": 20}], window=(D2, D3))
    assert engine.rows("w") == [(D1, 1), (D2, 20)]
    m = Merge(keys=["id"], cursor="n")
    m.run([{"id": 1, "n": 5, "v": "a"}], engine.url, table="m")
    load_mart(
        "m", m.spec, engine.url, source=[{"id": 1, "n": 1, "v": "old"}, {"id": 2, "n": 2, "v": "b"}], window=(0, 3)
    )
    assert engine.rows("m") == [(1, 1, "old"), (2, 2, "b")]


def test_backfill_needs_a_cursor_and_cdc_replays_by_watermark() -> None:
    with pytest.raises(SpecError, match="has none"):
        load_mart("t", parse_mart("t", {"strategy": "full"}), "duckdb:///:memory:", source=[{"id": 1}], window=(1, 2))
    cdc = parse_mart("t", {"strategy": "cdc", "keys": ["id"], "sequence": "lsn"})
    with pytest.raises(SpecError, match="replays its feed"):
        load_mart("t", cdc, "duckdb:///:memory:", source=[{"id": 1}], window=(1, 2))


def test_new_options_validate_with_clear_errors() -> None:
    for options, pattern in [
        ({"strategy": "overwrite_window"}, "partition_by: Field required"),
        ({"strategy": "overwrite_window", "partition_by": "d", "grain": "week"}, "grain: invalid value 'week'"),
        ({"strategy": "snapshot", "retain": 0}, "retain"),
        ({"strategy": "append", "skip_existing": True}, "`skip_existing` needs `keys`"),
        ({"strategy": "scd1"}, "strategy 'scd1' needs `keys"),
    ]:
        with pytest.raises(SpecError, match=pattern):
            parse_mart("m", options)


def test_cli_backfill_and_reset_watermark(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from loaders.cli import app

    pq.write_table(pa.table({"id": [1, 2, 3], "ts": [datetime(2026, 1, d) for d in (1, 2, 3)]}), tmp_path / "o.parquet")
    (tmp_path / "m.yaml").write_text(
        "target: duckdb:///wh.duckdb\nmarts:\n  orders:\n    strategy: append\n    cursor: ts\n"
        "    source: {path: o.parquet}\n"
    )
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(tmp_path / "m.yaml")]).exit_code == 0
    out = runner.invoke(
        app, ["run", str(tmp_path / "m.yaml"), "--mart", "orders", "--from", "2026-01-02", "--to", "2026-01-03"]
    )
    assert out.exit_code == 0 and "inserted 1, updated 0, deleted 1" in out.output, out.output
    out = runner.invoke(app, ["reset-watermark", str(tmp_path / "m.yaml"), "--mart", "orders"], input="n\n")
    assert out.exit_code == 1  # declined: nothing changed
    out = runner.invoke(
        app,
        ["reset-watermark", str(tmp_path / "m.yaml"), "--mart", "orders", "--to", "2026-01-01T00:00:00"],
        input="y\n",
    )
    assert out.exit_code == 0 and "→ 2026-01-01 00:00:00" in out.output, out.output
    out = runner.invoke(app, ["run", str(tmp_path / "m.yaml")])
    assert "inserted 2" in out.output  # rows past the reset watermark are read again
    history = runner.invoke(app, ["history", str(tmp_path / "m.yaml"), "--json"])
    assert '"status": "reset"' in history.output
