"""One behaviour per test, every strategy, on every engine (the ``engine`` fixture); exact rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from loaders import CDC, SCD2, Append, FullReload, LoadResult, Merge
from loaders.strategies.base import Strategy

T0 = datetime(2026, 3, 1, 12, 0, 0)


def day(n: int, hours: int = 0) -> datetime:
    return T0 + timedelta(days=n, hours=hours)


def load(engine: Any, loader: Strategy[Any], rows: Any, table: str = "t", **kw: Any) -> LoadResult:
    return loader.run(rows, engine.url, table=table, **kw)


def counts(r: LoadResult) -> dict[str, int]:
    return {k: getattr(r, k) for k in ("inserted", "updated", "deleted", "closed", "unchanged") if getattr(r, k)}


# --------------------------------------------------------------------------- full
def test_full_replaces_every_row(engine):
    first = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
    second = [{"id": 2, "v": "B"}, {"id": 3, "v": "c"}]
    assert counts(load(engine, FullReload(), first)) == {"inserted": 2}
    r = load(engine, FullReload(), second)
    assert counts(r) == {"inserted": 2, "deleted": 2}
    assert engine.rows("t") == [(2, "B"), (3, "c")]


def test_full_reader_sees_old_rows_until_commit(engine):
    """While the reload runs (after its DELETE), another connection still sees the old table."""
    load(engine, FullReload(), [{"id": i} for i in range(5)])
    seen: list[int] = []

    def peek(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("DELETE FROM") and not seen:
            seen.append(engine.scalar("select count(*) from t"))

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", peek)
    try:
        load(engine, FullReload(), [{"id": i} for i in range(3)])
    finally:
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", peek)
    assert seen == [5]
    assert engine.scalar("select count(*) from t") == 3


def test_full_with_empty_source_is_refused_unless_allowed(engine):
    """A zero-row extract is what a source outage looks like: it must not silently empty the mart."""
    import pyarrow as pa

    from loaders import DataContractError

    empty = pa.table({"id": pa.array([], pa.int64())})
    load(engine, FullReload(), [{"id": 1}])
    with pytest.raises(DataContractError, match="the source is empty, and full would remove all 1 current rows"):
        load(engine, FullReload(), empty)
    assert engine.rows("t") == [(1,)]
    load(engine, FullReload(allow_empty=True), empty)
    assert engine.rows("t") == []


# --------------------------------------------------------------------------- append
def test_append_cursor_loads_only_new_rows_and_is_idempotent(engine):
    a = Append(cursor="ts")
    batch1 = [{"id": 1, "ts": day(0)}, {"id": 2, "ts": day(1)}]
    r = load(engine, a, batch1)
    assert (r.inserted, r.watermark_after) == (2, day(1))
    batch2 = batch1 + [{"id": 3, "ts": day(2)}]
    r = load(engine, a, batch2)
    assert (r.inserted, r.watermark_before, r.watermark_after) == (1, day(1), day(2))
    r = load(engine, a, batch2)
    assert (r.inserted, r.watermark_after) == (0, day(2))
    assert engine.rows("t") == [(1, day(0)), (2, day(1)), (3, day(2))]


def test_append_without_cursor_appends_everything(engine):
    load(engine, Append(), [{"id": 1}])
    load(engine, Append(), [{"id": 1}])
    assert engine.rows("t") == [(1,), (1,)]


def test_append_lookback_catches_late_rows_without_duplicates(engine):
    a = Append(cursor="ts", keys=["id"], lookback="1 day")
    load(engine, a, [{"id": 1, "ts": day(5)}, {"id": 2, "ts": day(5, 6)}])
    late = [
        {"id": 1, "ts": day(5)},  # already loaded: skipped
        {"id": 3, "ts": day(4, 12)},  # late but within a day of the watermark: loaded
        {"id": 4, "ts": day(3)},  # older than the look-back: not re-read
        {"id": 5, "ts": day(6)},  # new
    ]
    r = load(engine, a, late)
    assert r.inserted == 2 and r.watermark_after == day(6)
    assert [row[0] for row in engine.rows("t")] == [1, 2, 3, 5]


def test_append_numeric_cursor_and_lookback(engine):
    a = Append(cursor="seq", keys=["seq"], lookback=10)
    load(engine, a, [{"seq": 100}, {"seq": 120}])
    r = load(engine, a, [{"seq": 105}, {"seq": 115}, {"seq": 120}, {"seq": 130}])
    assert r.inserted == 2 and r.watermark_after == 130
    assert engine.rows("t") == [(100,), (115,), (120,), (130,)]


# --------------------------------------------------------------------------- merge
MERGE_METHODS = ["update_insert", "merge", "upsert", "delete_insert"]
UNSUPPORTED = {  # engine -> merge methods it does not have (each raises UnsupportedByTarget before any SQL)
    "sqlite": {"merge"},
    "generic": {"merge", "upsert"},
    "mysql": {"merge"},
    "duckdb": {"upsert"},
}


def skip_unsupported(engine: Any, method: str) -> None:
    """An unsupported method is a named error before any SQL runs, never a silent fallback."""
    from loaders import UnsupportedByTarget

    if method in UNSUPPORTED.get(engine.name, set()):
        with pytest.raises(UnsupportedByTarget, match=f"`method: {method}`"):
            load(engine, Merge(keys=["id"], method=method), [{"id": 1}])
        pytest.skip(f"{engine.name} has no {method} (UnsupportedByTarget checked)")


@pytest.mark.parametrize("method", MERGE_METHODS)
def test_merge_updates_inserts_and_keeps_unchanged(engine, method):
    skip_unsupported(engine, method)
    m = Merge(keys=["id"], method=method)
    load(engine, m, [{"id": 1, "v": "a", "n": None}, {"id": 2, "v": "b", "n": 1}, {"id": 3, "v": None, "n": 2}])
    r = load(
        engine,
        m,
        [
            {"id": 1, "v": "a", "n": None},  # unchanged (NULL = NULL)
            {"id": 2, "v": "B", "n": 1},  # changed
            {"id": 3, "v": "c", "n": 2},  # NULL -> value
            {"id": 4, "v": "d", "n": None},
        ],
    )  # new
    assert engine.rows("t") == [(1, "a", None), (2, "B", 1), (3, "c", 2), (4, "d", None)]
    assert r.inserted == 1 and r.deleted == 0
    if method == "delete_insert":  # rewrites every matched key
        assert (r.updated, r.unchanged) == (3, 0)
    else:
        assert (r.updated, r.unchanged) == (2, 1)


@pytest.mark.parametrize("method", MERGE_METHODS)
def test_merge_composite_key_and_delete_missing(engine, method):
    skip_unsupported(engine, method)
    m = Merge(keys=["a", "b"], delete_missing=True, method=method)
    load(engine, m, [{"a": 1, "b": "x", "v": 1}, {"a": 1, "b": "y", "v": 2}, {"a": 2, "b": "x", "v": 3}])
    r = load(engine, m, [{"a": 1, "b": "y", "v": 20}, {"a": 2, "b": "x", "v": 3}, {"a": 2, "b": "y", "v": 4}])
    assert engine.rows("t") == [(1, "y", 20), (2, "x", 3), (2, "y", 4)]
    assert r.deleted == 1 and r.inserted == 1


def test_merge_with_cursor_is_incremental(engine):
    m = Merge(keys=["id"], cursor="ts")
    load(engine, m, [{"id": 1, "v": "a", "ts": day(0)}, {"id": 2, "v": "b", "ts": day(0)}])
    feed = [{"id": 1, "v": "stale", "ts": day(0)}, {"id": 2, "v": "B", "ts": day(1)}]
    r = load(engine, m, feed)
    assert r.updated == 1 and r.rows_in == 1 and r.watermark_after == day(1)
    assert engine.rows("t") == [(1, "a", day(0)), (2, "B", day(1))]


def test_merge_all_key_columns(engine):
    m = Merge(keys=["id"])
    load(engine, m, [{"id": 1}])
    r = load(engine, m, [{"id": 1}, {"id": 2}])
    assert (r.inserted, r.unchanged) == (1, 1)
    assert engine.rows("t") == [(1,), (2,)]


# --------------------------------------------------------------------------- scd2
def test_scd2_opens_and_closes_versions(engine):
    s = SCD2(keys=["id"], track=["city"])
    load(engine, s, [{"id": 1, "city": "A", "name": "x"}, {"id": 2, "city": "B", "name": "y"}], run_time=day(0))
    r = load(
        engine,
        s,
        [
            {"id": 1, "city": "A2", "name": "x"},  # tracked change: close + open
            {"id": 2, "city": "B", "name": "Y"},  # untracked change: in place
            {"id": 3, "city": "C", "name": "z"},
        ],  # new key
        run_time=day(1),
    )
    assert counts(r) == {"inserted": 2, "closed": 1, "updated": 1}
    assert engine.rows("t") == [
        (1, "A", "x", day(0), day(1), False),
        (1, "A2", "x", day(1), None, True),
        (2, "B", "Y", day(0), None, True),
        (3, "C", "z", day(1), None, True),
    ]
    r = load(engine, s, [{"id": 1, "city": "A2", "name": "x"}], run_time=day(2))
    assert counts(r) == {"unchanged": 1}


def test_scd2_effective_from_column_and_custom_names(engine):
    s = SCD2(
        keys=["id"],
        effective_from="updated_at",
        valid_from_column="start_ts",
        valid_to_column="end_ts",
        is_current_column="current_flag",
    )
    load(engine, s, [{"id": 1, "city": "A", "updated_at": day(0)}])
    load(engine, s, [{"id": 1, "city": "B", "updated_at": day(3)}])
    assert engine.rows("t", ["id", "city", "start_ts", "end_ts", "current_flag"]) == [
        (1, "A", day(0), day(3), False),
        (1, "B", day(3), None, True),
    ]


def test_scd2_untracked_ignore_keeps_current_row(engine):
    s = SCD2(keys=["id"], track=["city"], untracked="ignore")
    load(engine, s, [{"id": 1, "city": "A", "name": "x"}], run_time=day(0))
    r = load(engine, s, [{"id": 1, "city": "A", "name": "changed"}], run_time=day(1))
    assert counts(r) == {"unchanged": 1}
    assert engine.rows("t", ["name"]) == [("x",)]


def test_scd2_deletes_close_and_key_comes_back(engine):
    s = SCD2(keys=["id"], deletes="close")
    load(engine, s, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], run_time=day(0))
    r = load(engine, s, [{"id": 1, "v": "a"}], run_time=day(1))
    assert counts(r) == {"deleted": 1, "unchanged": 1}
    r = load(engine, s, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], run_time=day(2))
    assert counts(r) == {"inserted": 1, "unchanged": 1}
    assert engine.rows("t") == [
        (1, "a", day(0), None, True),
        (2, "b", day(0), day(1), False),
        (2, "b", day(2), None, True),
    ]


def test_scd2_deletes_ignore_keeps_absent_keys_current(engine):
    s = SCD2(keys=["id"])
    load(engine, s, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], run_time=day(0))
    load(engine, s, [{"id": 1, "v": "a"}], run_time=day(1))
    assert engine.rows("t", ["id", "is_current"]) == [(1, True), (2, True)]


def test_scd2_returning_key_never_overlaps_its_closed_version(engine):
    """A key deleted at load time T that comes back with an older effective_from opens at T."""
    s = SCD2(keys=["id"], effective_from="ts", deletes="close")
    load(engine, s, [{"id": 1, "v": "a", "ts": day(0)}, {"id": 2, "v": "b", "ts": day(0)}], run_time=day(5))
    load(engine, s, [{"id": 1, "v": "a", "ts": day(0)}], run_time=day(6))
    load(engine, s, [{"id": 1, "v": "a", "ts": day(0)}, {"id": 2, "v": "b2", "ts": day(4)}], run_time=day(7))
    assert engine.rows("t", ["id", "v", "valid_from", "valid_to"]) == [
        (1, "a", day(0), None),
        (2, "b", day(0), day(6)),
        (2, "b2", day(6), None),
    ]


def test_scd2_out_of_order_change_fails_and_changes_nothing(engine):
    from loaders import DataContractError

    s = SCD2(keys=["id"], effective_from="ts")
    load(engine, s, [{"id": 1, "v": "a", "ts": day(2)}])
    with pytest.raises(DataContractError, match="out-of-order"):
        load(engine, s, [{"id": 1, "v": "b", "ts": day(1)}])
    assert engine.rows("t", ["v"]) == [("a",)]


# --------------------------------------------------------------------------- cdc
FEED = [  # file order is not sequence order
    {"op": "u", "id": 1, "v": "a2", "lsn": 3},
    {"op": "c", "id": 1, "v": "a1", "lsn": 1},
    {"op": "I", "id": 2, "v": "b1", "lsn": 2},
    {"op": "D", "id": 2, "v": None, "lsn": 5},
    {"op": "U", "id": 3, "v": "c1", "lsn": 4},  # update of a missing key inserts it
    {"op": "d", "id": 9, "v": None, "lsn": 6},  # delete of a missing key: no-op
    {"op": "r", "id": 4, "v": "snap", "lsn": 7},
]


def test_cdc_applies_last_event_per_key(engine):
    r = load(engine, CDC(keys=["id"], sequence="lsn"), FEED)
    assert engine.rows("t") == [(1, "a2", 3), (3, "c1", 4), (4, "snap", 7)]
    assert r.inserted == 3 and r.watermark_after == 7


def test_cdc_replay_is_idempotent_and_old_events_are_skipped(engine):
    c = CDC(keys=["id"], sequence="lsn")
    load(engine, c, FEED)
    r = load(engine, c, FEED)  # only the snapshot read at the watermark (lsn 7) is taken again: no change
    assert counts(r) == {"unchanged": 1} and r.rows_in == 1
    r = load(engine, c, FEED + [{"op": "u", "id": 1, "v": "old", "lsn": 2}, {"op": "d", "id": 1, "v": None, "lsn": 8}])
    assert counts(r) == {"deleted": 1, "unchanged": 1} and r.rows_in == 2
    assert engine.rows("t") == [(3, "c1", 4), (4, "snap", 7)]


def test_cdc_soft_deletes_and_op_columns(engine):
    c = CDC(keys=["id"], sequence="lsn", deletes="soft", keep_op=True, keep_sequence=False)
    load(engine, c, FEED[1:3])
    r = load(engine, c, [{"op": "D", "id": 2, "v": None, "lsn": 5}])
    assert r.deleted == 1
    assert engine.rows("t") == sorted([("c", 1, "a1", False), ("I", 2, "b1", True)])
    r = load(engine, c, [{"op": "u", "id": 2, "v": "back", "lsn": 10}])
    assert r.updated == 1
    assert engine.rows("t") == sorted([("c", 1, "a1", False), ("u", 2, "back", False)])


def test_cdc_soft_delete_keeps_values(engine):
    c = CDC(keys=["id"], sequence="lsn", deletes="soft", deleted_column="is_deleted")
    load(engine, c, [{"op": "c", "id": 1, "v": "a", "lsn": 1}])
    r = load(engine, c, [{"op": "d", "id": 1, "v": None, "lsn": 2}])
    assert r.deleted == 1
    assert engine.rows("t") == [(1, "a", 1, True)]


def test_cdc_snapshot_split_over_two_runs_keeps_its_second_half(engine):
    """All reads of one snapshot share a position: reads at the watermark still load (Python rows
    and Arrow tables once dropped them before the stage, filtering past the watermark with >)."""
    c = CDC(keys=["id"], sequence="lsn")
    load(engine, c, [{"op": "r", "id": 1, "v": "a", "lsn": 5}])
    r = load(engine, c, [{"op": "r", "id": 2, "v": "b", "lsn": 5}, {"op": "u", "id": 1, "v": "x", "lsn": 5}])
    assert engine.rows("t") == [(1, "a", 5), (2, "b", 5)]  # an update at the watermark was applied before
    assert counts(r) == {"inserted": 1} and r.rows_in == 1


HAND_MADE = {  # a table created by hand: with or without the unique index an upsert needs
    "no index": ["create table t (id integer, v varchar(20), lsn integer)"],
    "unique index": ["create table t (id integer, v varchar(20), lsn integer)", "create unique index ux_t on t (id)"],
    "primary key": ["create table t (id integer primary key, v varchar(20), lsn integer)"],
    "unique on more columns": ["create table t (id integer, v varchar(20), lsn integer, unique (id, lsn))"],
}


@pytest.mark.parametrize("made", list(HAND_MADE))
def test_cdc_into_a_table_made_by_hand(engine, made):
    """Where the table has a unique index on the keys, cdc applies its upserts in one INSERT ... ON
    CONFLICT (PostgreSQL, SQLite); otherwise an UPDATE and an INSERT. The rows and counts are the same."""
    with engine.connect() as conn:
        for ddl in HAND_MADE[made]:
            conn.exec_driver_sql(ddl)
        conn.commit()
    c = CDC(keys=["id"], sequence="lsn")
    r = load(engine, c, FEED)
    assert engine.rows("t") == [(1, "a2", 3), (3, "c1", 4), (4, "snap", 7)]
    assert counts(r) == {"inserted": 3, "unchanged": 2}
    later = [{"op": "u", "id": 1, "v": "a3", "lsn": 8}, {"op": "r", "id": 5, "v": "s5", "lsn": 9}]
    r = load(engine, c, [*later, {"op": "d", "id": 3, "v": None, "lsn": 9}])
    assert engine.rows("t") == [(1, "a3", 8), (4, "snap", 7), (5, "s5", 9)]
    assert counts(r) == {"inserted": 1, "updated": 1, "deleted": 1}
    r = load(engine, c, [{"op": "r", "id": 5, "v": "s5", "lsn": 9}, {"op": "R", "id": 4, "v": "snap2", "lsn": 9}])
    assert engine.rows("t") == [(1, "a3", 8), (4, "snap2", 9), (5, "s5", 9)]
    assert counts(r) == {"updated": 1, "unchanged": 1}  # a snapshot read at the watermark applied again


UNIQUE_ON = {  # a table's indexes -> whether ON CONFLICT (id) can use one of them
    "unique index": (["create table u (id integer, v integer)", "create unique index ux_u on u (id)"], True),
    "primary key": (["create table u (id integer primary key, v integer)"], True),
    "unique constraint, keys in another order": (["create table u (v integer, id integer, unique (id, v))"], False),
    "partial unique index": (
        ["create table u (id integer, v integer)", "create unique index ux_u on u (id) where v > 0"],
        False,
    ),
    "plain index": (["create table u (id integer, v integer)", "create index ix_u on u (id)"], False),
    "expression index": (["create table u (id integer, v integer)", "create unique index ux_u on u ((id + 1))"], False),
    "no index": (["create table u (id integer, v integer)"], False),
}


@pytest.mark.parametrize("engine", ["postgres", "sqlite"], indirect=True)
def test_unique_on_finds_only_an_index_on_conflict_can_use(engine):
    """cdc takes the upsert only where the table's own indexes let ON CONFLICT (keys) work."""
    from loaders.targets import open_target

    cases = dict(UNIQUE_ON)
    cases["two keys, index in another order"] = (["create table u (a integer, id integer, unique (id, a))"], True)
    if engine.name == "postgres":  # ON CONFLICT cannot use a deferrable one; an INCLUDE one it could (not taken)
        cases["deferrable unique"] = (["create table u (id integer unique deferrable, v integer)"], False)
        cases["unique with INCLUDE"] = (
            ["create table u (id integer, v integer)", "create unique index ux_u on u (id) include (v)"],
            False,
        )
    target = open_target(engine.url)
    try:
        for case, (ddl, usable) in cases.items():
            with engine.connect() as conn:
                conn.exec_driver_sql("drop table if exists u")
                for statement in ddl:
                    conn.exec_driver_sql(statement)
                conn.commit()
            keys = ["a", "id"] if case.startswith("two keys") else ["id"]
            with target.connect() as conn:
                assert target.unique_on(conn, sa.Table("u", sa.MetaData()), keys) is usable, case
    finally:
        target.close()
