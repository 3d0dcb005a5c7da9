"""Debezium topics as a cdc source (`format: debezium`): both envelope forms, types from the envelope's
schema, ordering by a unique position, tombstones, repeats, truncates and snapshots split over runs.

The fixtures in `fixtures/debezium/` are small hand-made topics in the shape Debezium 2.x writes.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from loaders import DataContractError, SourceError, load_mart, parse_mart
from loaders.sources.debezium import DebeziumSource

FIXTURES = Path(__file__).parent / "fixtures" / "debezium"


def mart(path: Path | str, **options: Any) -> Any:
    return parse_mart(
        "orders",
        {
            "strategy": "cdc",
            "table": "orders",
            "keys": ["id"],
            "source": {"path": str(path), "format": "debezium"},
            **options,
        },
    )


def test_envelope_types_come_from_the_schema() -> None:
    table = DebeziumSource(str(FIXTURES / "orders_envelope.jsonl")).read().read_all()
    types = {f.name: f.type for f in table.schema}
    assert types["id"] == pa.int32()
    assert types["amount"] == pa.decimal128(10, 2)
    assert types["created_at"] == pa.timestamp("us")
    assert types["updated_at"] == pa.timestamp("us", "UTC")
    assert types["ship_date"] == pa.date32()
    rows = table.to_pylist()
    assert len(rows) == 6  # 2 tombstones, a blank line and an exact repeat left out
    shipped = next(r for r in rows if r["status"] == "shipped")
    assert shipped["amount"] == Decimal("12.34")
    assert shipped["created_at"] == datetime(2026, 1, 1, 9, 0)
    assert shipped["updated_at"] == datetime(2026, 1, 2, 8, 0, tzinfo=timezone.utc)
    assert shipped["ship_date"] == date(2026, 1, 5)
    assert next(r for r in rows if r["id"] == 3)["amount"] == Decimal("-5.00")


def test_positions_follow_commit_order() -> None:
    """A transaction that began first but committed later sorts after the one it waited behind."""
    rows = DebeziumSource(str(FIXTURES / "orders_envelope.jsonl")).read().read_all().to_pylist()
    positions = [r["__position"] for r in rows]
    assert positions == sorted(positions)
    assert len({len(p) for p in positions}) == 1  # fixed width: compares as text in every engine


@pytest.mark.parametrize("fixture", ["orders_envelope.jsonl", "orders_payload.jsonl"])
def test_both_envelope_forms_apply(engine: Any, fixture: str) -> None:
    r = load_mart("orders", mart(FIXTURES / fixture), engine.url)
    rows = engine.rows("orders", ["id", "status", "__position"])
    assert [(i, s) for i, s, _ in rows] == [(1, "shipped"), (3, "new")]
    assert r.watermark_after == f"p{1150:020d}{1220:020d}"  # the delete of id 2, the feed's last change
    again = load_mart("orders", mart(FIXTURES / fixture), engine.url)  # replay: nothing changes
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    assert engine.rows("orders", ["id", "status"]) == [(1, "shipped"), (3, "new")]


def test_typed_columns_land_typed(engine: Any) -> None:
    load_mart("orders", mart(FIXTURES / "orders_envelope.jsonl"), engine.url)
    rows = engine.rows("orders", ["id", "amount", "ship_date"])
    assert rows == [(1, Decimal("12.34"), date(2026, 1, 5)), (3, Decimal("-5.00"), None)]


def test_mysql_binlog_positions(engine: Any) -> None:
    """The create in binlog file 3 applies before the changes in file 4, whatever the file order."""
    load_mart("customers", mart(FIXTURES / "mysql_payload.jsonl", table="customers"), engine.url)
    assert engine.rows("customers", ["id", "name"]) == [(1, "Ada L."), (3, "Edsger")]


def test_a_snapshot_split_over_two_runs_keeps_its_second_half(engine: Any, tmp_path: Path) -> None:
    topic = tmp_path / "topic"
    topic.mkdir()
    shutil.copy(FIXTURES / "snapshot_split" / "run1.jsonl", topic)
    load_mart("orders", mart(topic), engine.url)
    assert engine.rows("orders", ["id", "v"]) == [(1, "a"), (2, "b")]
    (topic / "run1.jsonl").unlink()  # the sink rolled to a new file
    shutil.copy(FIXTURES / "snapshot_split" / "run2.jsonl", topic)
    load_mart("orders", mart(topic), engine.url)
    assert engine.rows("orders", ["id", "v"]) == [(1, "a2"), (2, "b"), (3, "c")]


def test_truncate_is_refused_unless_applied(engine: Any) -> None:
    with pytest.raises(DataContractError, match=r"truncate.*`truncate: apply`") as e:
        load_mart("orders", mart(FIXTURES / "truncate.jsonl"), engine.url)
    assert "orders" in str(e.value)
    r = load_mart("orders", mart(FIXTURES / "truncate.jsonl", truncate="apply"), engine.url)
    assert engine.rows("orders", ["id", "v"]) == [(3, "c")]
    assert r.inserted == 1


def test_an_empty_topic_is_an_empty_batch(engine: Any, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("null\n\n")
    load_mart("orders", mart(FIXTURES / "orders_envelope.jsonl"), engine.url)
    r = load_mart("orders", mart(tmp_path / "empty.jsonl"), engine.url)
    assert (r.rows_in, r.inserted, r.deleted) == (0, 0, 0)
    assert engine.rows("orders", ["id"]) == [(1,), (3,)]


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("{not json", r"empty\.jsonl:1: not JSON"),
        ('{"op": "x", "after": {"id": 1}, "source": {"lsn": 1}}', "not a Debezium change event"),
        ('{"op": "c", "source": {"lsn": 1}}', "without a row image"),
        ('{"op": "c", "after": {"id": 1}, "source": {}}', "has no position"),
    ],
)
def test_broken_events_name_the_file_and_line(tmp_path: Path, line: str, pattern: str, duck: Any) -> None:
    (tmp_path / "empty.jsonl").write_text(line + "\n")
    with pytest.raises(SourceError, match=pattern) as e:
        load_mart("orders", mart(tmp_path / "empty.jsonl"), duck.url)
    assert "mart orders" in str(e.value)


def test_sequence_and_op_need_not_be_set_but_other_sources_need_them() -> None:
    spec = mart(FIXTURES / "orders_envelope.jsonl")
    assert (spec.sequence, spec.op_column) == ("__position", "__op")
    with pytest.raises(Exception, match="sequence"):
        parse_mart("o", {"strategy": "cdc", "table": "o", "keys": ["id"], "source": {"path": "x.parquet"}})
