"""SCD2 history from a change feed (`strategy: scd2` with `sequence`): every event a version, valid from
its effective time to the next event's; deletes close at their own time; replays add nothing.
Checked against exact histories on every engine, and against a plain-Python model over random feeds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import SCD2, DataContractError, SpecError, load_mart, parse_mart

FIXTURES = Path(__file__).parent / "fixtures" / "debezium"
T0 = datetime(2026, 1, 1)
FEED = pa.schema(
    [("op", pa.string()), ("id", pa.int64()), ("v", pa.string()), ("seq", pa.int64()), ("at", pa.timestamp("us"))]
)
HISTORY = ["id", "v", "seq", "valid_from", "valid_to", "is_current"]


def feed(*events: tuple[str, int, Any, int]) -> pa.Table:
    """(op, id, v, seq); the event happened at T0 + seq hours."""
    rows = [{"op": o, "id": k, "v": v, "seq": s, "at": T0 + timedelta(hours=s)} for o, k, v, s in events]
    return pa.Table.from_pylist(rows, schema=FEED)


def at(seq: int | None) -> datetime | None:
    return None if seq is None else T0 + timedelta(hours=seq)


def loader() -> Any:
    return SCD2(keys=["id"], sequence="seq", effective_from="at")


def test_every_event_is_a_version_in_sequence_order(engine: Any) -> None:
    # file order is not event order; key 1 changes twice in the batch, key 2 is deleted and comes back
    batch = feed(
        ("u", 1, "b", 3), ("c", 1, "a", 1), ("c", 2, "x", 2), ("u", 1, "c", 5), ("d", 2, None, 4), ("c", 2, "y", 6)
    )
    r = loader().run(batch, engine.url, table="h")
    assert engine.rows("h", HISTORY) == [
        (1, "a", 1, at(1), at(3), False),
        (1, "b", 3, at(3), at(5), False),
        (1, "c", 5, at(5), None, True),
        (2, "x", 2, at(2), at(4), False),
        (2, "y", 6, at(6), None, True),
    ]
    assert (r.inserted, r.deleted) == (5, 1)
    # the next batch closes the current versions at its events' times; a delete closes for good
    loader().run(feed(("u", 1, "d", 7), ("d", 2, None, 8)), engine.url, table="h")
    history = engine.rows("h", HISTORY)
    assert (1, "c", 5, at(5), at(7), False) in history and (1, "d", 7, at(7), None, True) in history
    assert (2, "y", 6, at(6), at(8), False) in history
    assert sum(1 for row in history if row[5]) == 1


def test_a_replayed_feed_adds_nothing(engine: Any) -> None:
    batch = feed(("c", 1, "a", 1), ("u", 1, "b", 2))
    loader().run(batch, engine.url, table="h")
    before = engine.rows("h", HISTORY)
    r = loader().run(batch, engine.url, table="h")
    assert engine.rows("h", HISTORY) == before
    assert r.inserted == 0


def test_an_event_earlier_than_the_version_before_it_is_refused(engine: Any) -> None:
    loader().run(feed(("c", 1, "a", 5)), engine.url, table="h")
    before = engine.rows("h", HISTORY)
    late = pa.Table.from_pylist([{"op": "u", "id": 1, "v": "b", "seq": 6, "at": at(2)}], schema=FEED)
    with pytest.raises(DataContractError, match="out-of-order") as e:
        loader().run(late, engine.url, table="h")
    assert "mart h" in str(e.value)
    assert engine.rows("h", HISTORY) == before


def test_history_from_a_debezium_topic(engine: Any, tmp_path: Path) -> None:
    """The orders topic: a snapshot of two orders, then an insert, two updates and a delete."""
    spec = parse_mart(
        "order_history",
        {
            "strategy": "scd2",
            "table": "order_history",
            "keys": ["id"],
            "source": {"path": str(FIXTURES / "orders_envelope.jsonl"), "format": "debezium"},
        },
    )
    load_mart("order_history", spec, engine.url)
    t = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    rows = engine.rows("order_history", ["id", "status", "valid_from", "valid_to", "is_current"])
    rows = [(i, s, _utc(f), _utc(to), c) for i, s, f, to, c in rows]
    five_min, next_day = t + timedelta(minutes=5), t + timedelta(hours=22)
    assert rows == [
        (1, "new", t, five_min, False),
        (1, "paid", five_min, next_day, False),
        (1, "shipped", next_day, None, True),
        (2, "new", t, next_day, False),  # deleted the next day
        (3, "new", five_min, None, True),
    ]
    again = load_mart("order_history", spec, engine.url)
    assert again.inserted == 0


def _utc(value: datetime | None) -> datetime | None:
    """MariaDB and SQLite hand zoned timestamps back naive (in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def test_feed_options_that_do_not_apply_are_spec_errors() -> None:
    base = {"strategy": "scd2", "table": "h", "keys": ["id"], "source": {"path": "f.parquet"}, "sequence": "seq"}
    for extra in ({"deletes": "close"}, {"cursor": "seq2"}, {"track": ["v"]}):
        with pytest.raises(SpecError, match="change feed"):
            parse_mart("h", {**base, **extra})


# ------------------------------------------------------------------ model
events = st.lists(
    st.tuples(st.sampled_from(["c", "u", "d", "I", "U", "D", "r"]), st.integers(0, 3), st.sampled_from(["a", "b"])),
    max_size=8,
)


@settings(settings.default, max_examples=min(settings.default.max_examples, 25))
@given(feeds=st.lists(events, min_size=1, max_size=3), data=st.data())
def test_scd2_feed_model(engine: Any, feeds: list[list[tuple[str, int, str]]], data: st.DataObject) -> None:
    """Random feeds split into batches (each shuffled, sometimes with the previous batch replayed):
    the history is the one the events give, one version per insert/update event."""
    table = f"f_{uuid.uuid4().hex[:8]}"
    seq, sent, versions = 0, [], []  # versions: [id, v, seq, valid_from, valid_to, is_current]
    try:
        for batch_events in feeds:
            batch = []
            for op, k, v in batch_events:
                seq += 1
                batch.append((op, k, None if op.upper() == "D" else v, seq))
            replay = data.draw(st.booleans()) and sent
            shuffled = data.draw(st.permutations(batch + (sent[-3:] if replay else [])))
            loader().run(feed(*shuffled), engine.url, table=table)
            for op, k, v, s in batch:  # the model: events in sequence order
                current = next((row for row in versions if row[0] == k and row[5]), None)
                if current is not None:
                    current[4], current[5] = at(s), False
                if op.upper() != "D":
                    versions.append([k, v, s, at(s), None, True])
            sent += batch
            assert engine.rows(table, HISTORY) == sorted_rows(tuple(r) for r in versions)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"drop table if exists {table}")
            conn.commit()


def sorted_rows(rows: Any) -> list[tuple[Any, ...]]:
    from conftest import _sort_key

    return sorted((tuple(r) for r in rows), key=_sort_key)
