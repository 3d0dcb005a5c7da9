"""Each strategy against a plain-Python model of it, over random sequences of batches (hypothesis).

The models are the spec in its clearest form: a dict of keys for merge, a list of versions for SCD2,
events sorted by sequence for CDC. Tables are compared exactly after every load.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_conformance import UNSUPPORTED  # noqa: E402

from loaders import CDC, SCD2, Append, DataContractError, FullReload, Merge

pytestmark = pytest.mark.slow

#: the budget comes from the hypothesis profile (tests/conftest.py): `ci` by default, `long` with
#: `pytest tests/test_models.py --hypothesis-profile long`
SETTINGS = settings()
T0 = datetime(2026, 1, 1)

keys = st.integers(0, 5)
values = st.sampled_from(["a", "b", None])
snapshot = st.dictionaries(keys, st.tuples(values, values), max_size=6)
snapshots = st.lists(snapshot, min_size=1, max_size=4)


def table_of(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Typed Arrow, so an all-NULL or empty batch still has the right column types."""
    return pa.Table.from_pylist(rows, schema=schema)


KV = pa.schema([("id", pa.int64()), ("v", pa.string()), ("w", pa.string())])


def kv_rows(snap: dict[int, tuple[Any, Any]]) -> pa.Table:
    return table_of([{"id": k, "v": v, "w": w} for k, (v, w) in snap.items()], KV)


_made: list[str] = []


def fresh(engine: Any) -> str:
    """A new table for this example; the one the previous example made is dropped first. A long run
    otherwise fills one database with thousands of tables (DuckDB gives each its own blocks: 2,000
    examples made a 570 MB file) and every load slows down with the catalog."""
    if _made:
        with engine.connect() as conn:
            for name in _made:
                conn.exec_driver_sql(f"drop table if exists {name}")
            conn.commit()
        _made.clear()
    _made.append(f"t_{uuid.uuid4().hex[:10]}")
    return _made[-1]


def refused_as_outage(engine: Any, table: str, load: Any) -> None:
    """An empty batch that would empty a non-empty mart is refused (a source outage), changing nothing."""
    before = engine.rows(table)
    with pytest.raises(DataContractError, match="the source is empty"):
        load()
    assert engine.rows(table) == before


# --------------------------------------------------------------------------- full
@SETTINGS
@given(snaps=snapshots, allow_empty=st.booleans())
def test_full_model(engine, snaps, allow_empty):
    table, model = fresh(engine), {}
    for snap in snaps:
        loader = FullReload(keys=["id"], allow_empty=allow_empty)
        if not snap and model and not allow_empty:
            refused_as_outage(engine, table, lambda: loader.run(kv_rows(snap), engine.url, table=table))  # noqa: B023
            continue
        loader.run(kv_rows(snap), engine.url, table=table)
        model = dict(snap)
        assert engine.rows(table) == sorted_rows((k, v, w) for k, (v, w) in model.items())


# --------------------------------------------------------------------------- merge
@SETTINGS
@given(
    snaps=snapshots,
    method=st.sampled_from(["update_insert", "merge", "upsert", "delete_insert"]),
    delete_missing=st.booleans(),
    allow_empty=st.booleans(),
)
def test_merge_model(engine, snaps, method, delete_missing, allow_empty):
    assume(method not in UNSUPPORTED.get(engine.name, set()))
    table, model = fresh(engine), {}
    for snap in snaps:
        loader = Merge(keys=["id"], method=method, delete_missing=delete_missing, allow_empty=allow_empty)
        if not snap and model and delete_missing and not allow_empty:
            refused_as_outage(engine, table, lambda: loader.run(kv_rows(snap), engine.url, table=table))  # noqa: B023
            continue
        r = loader.run(kv_rows(snap), engine.url, table=table)
        gone = [k for k in model if k not in snap] if delete_missing else []
        new = [k for k in snap if k not in model]
        changed = [k for k in snap if k in model and model[k] != snap[k]]
        for k in gone:
            del model[k]
        model.update(snap)
        assert engine.rows(table) == sorted_rows((k, v, w) for k, (v, w) in model.items())
        assert (r.inserted, r.deleted) == (len(new), len(gone))
        if method != "delete_insert":
            assert r.updated == len(changed)


# --------------------------------------------------------------------------- schema additions
extra_columns = st.lists(st.sampled_from(["x1", "x2"]), unique=True, max_size=2)
wide_rows = st.dictionaries(keys, st.tuples(values, values, values), max_size=5)


@SETTINGS
@given(batches=st.lists(st.tuples(wide_rows, extra_columns), min_size=1, max_size=4))
def test_schema_additions_model(engine, batches):
    """Batches that bring new columns now and then (schema_change: add_columns): a column a batch
    lacks is NULL on insert and left as it was on update."""
    table, model, added = fresh(engine), {}, []
    for rows, extra in batches:
        added += [c for c in extra if c not in added]
        schema = pa.schema([("id", pa.int64()), ("v", pa.string()), *((c, pa.string()) for c in extra)])
        data = [{"id": k, "v": v, **{c: {"x1": x1, "x2": x2}[c] for c in extra}} for k, (v, x1, x2) in rows.items()]
        Merge(keys=["id"], schema_change="add_columns").run(table_of(data, schema), engine.url, table=table)
        for row in data:
            model.setdefault(row["id"], {}).update(row)
        expected = ((k, r["v"], *(r.get(c) for c in added)) for k, r in model.items())
        assert engine.rows(table) == sorted_rows(expected)


# --------------------------------------------------------------------------- append
cursor_batches = st.lists(st.lists(st.tuples(st.integers(0, 30), values), max_size=6), min_size=1, max_size=4)
CV = pa.schema([("c", pa.int64()), ("v", pa.string())])


@SETTINGS
@given(batches=cursor_batches)
def test_append_cursor_model(engine, batches):
    table, model, wm = fresh(engine), [], None
    for batch in batches:
        r = Append(cursor="c").run(table_of([{"c": c, "v": v} for c, v in batch], CV), engine.url, table=table)
        new = [(c, v) for c, v in batch if wm is None or c > wm]
        model += new
        wm = max([wm] * (wm is not None) + [c for c, _ in new], default=None)
        assert r.watermark_after == wm
        assert engine.rows(table) == sorted_rows(model)


keyed_batches = st.lists(st.dictionaries(st.integers(0, 12), st.integers(0, 30), max_size=6), min_size=1, max_size=4)
IC = pa.schema([("id", pa.int64()), ("c", pa.int64())])


@SETTINGS
@given(batches=keyed_batches, lookback=st.integers(0, 10))
def test_append_lookback_model(engine, batches, lookback):
    table, model, wm = fresh(engine), {}, None
    for batch in batches:
        Append(cursor="c", keys=["id"], lookback=lookback).run(
            table_of([{"id": k, "c": c} for k, c in batch.items()], IC), engine.url, table=table
        )
        window = {k: c for k, c in batch.items() if wm is None or c > wm - lookback}
        for k, c in window.items():
            model.setdefault(k, c)
        wm = max([wm] * (wm is not None) + list(window.values()), default=None)
        assert engine.rows(table) == sorted_rows(model.items())


# --------------------------------------------------------------------------- scd2
@SETTINGS
@given(snaps=snapshots, deletes=st.sampled_from(["ignore", "close"]), allow_empty=st.booleans())
def test_scd2_model(engine, snaps, deletes, allow_empty):
    table, versions = fresh(engine), []  # [id, v, w, valid_from, valid_to, is_current]
    for i, snap in enumerate(snaps):
        t = T0 + timedelta(days=i)
        loader = SCD2(keys=["id"], track=["v"], deletes=deletes, allow_empty=allow_empty)
        current = {row[0]: row for row in versions if row[5]}
        if not snap and current and deletes == "close" and not allow_empty:
            refused_as_outage(
                engine,
                table,
                lambda: loader.run(kv_rows(snap), engine.url, table=table, run_time=t),  # noqa: B023
            )
            continue
        loader.run(kv_rows(snap), engine.url, table=table, run_time=t)
        for k, (v, w) in snap.items():
            row = current.get(k)
            if row is not None and row[1] != v:
                row[4], row[5] = t, False
                versions.append([k, v, w, t, None, True])
            elif row is not None:
                row[2] = w  # untracked column updated in place
            else:
                versions.append([k, v, w, t, None, True])
        if deletes == "close":
            for k, row in current.items():
                if k not in snap:
                    row[4], row[5] = t, False
        assert engine.rows(table) == sorted_rows(tuple(r) for r in versions)
    assert_no_overlap(engine.rows(table))


def assert_no_overlap(rows: list[tuple[Any, ...]]) -> None:
    by_key: dict[Any, list[tuple[Any, ...]]] = {}
    for r in rows:
        by_key.setdefault(r[0], []).append(r)
    for versions in by_key.values():
        versions.sort(key=lambda r: r[3])
        assert sum(1 for r in versions if r[5]) <= 1
        for a, b in zip(versions, versions[1:], strict=False):
            assert a[4] is not None and a[4] <= b[3]


# --------------------------------------------------------------------------- cdc
events = st.lists(
    st.tuples(st.sampled_from(["I", "U", "D", "c", "u", "d", "r"]), st.integers(0, 4), values), max_size=8
)
OPS = pa.schema([("op", pa.string()), ("id", pa.int64()), ("v", pa.string()), ("seq", pa.int64())])


@SETTINGS
@given(feeds=st.lists(events, min_size=1, max_size=4), replay=st.booleans(), data=st.data())
def test_cdc_model(engine, feeds, replay, data):
    table, model, wm, seq, sent = fresh(engine), {}, None, 0, []
    for feed in feeds:
        batch = []
        for op, k, v in feed:
            seq += 1
            batch.append((op, k, v, seq))
        if replay and sent:  # part of an earlier feed arrives again
            batch += data.draw(st.lists(st.sampled_from(sent), unique=True, max_size=4))
        batch = data.draw(st.permutations(batch))
        sent += [e for e in batch if e not in sent]
        CDC(keys=["id"], sequence="seq").run(
            table_of([{"op": o, "id": k, "v": v, "seq": s} for o, k, v, s in batch], OPS), engine.url, table=table
        )
        # past the watermark, or a snapshot read at it (a snapshot split over runs shares one position)
        unapplied = (e for e in batch if wm is None or e[3] > wm or (e[3] == wm and e[0].upper() == "R"))
        fresh_events = sorted(unapplied, key=lambda e: e[3])
        for op, k, v, s in fresh_events:
            if op.upper() == "D":
                model.pop(k, None)
            else:
                model[k] = (v, s)
        wm = max([wm] * (wm is not None) + [e[3] for e in fresh_events], default=None)
        assert engine.rows(table) == sorted_rows((k, v, s) for k, (v, s) in model.items())


def sorted_rows(rows: Any) -> list[tuple[Any, ...]]:
    from conftest import _sort_key

    return sorted((tuple(r) for r in rows), key=_sort_key)


# --------------------------------------------------------------------------- overwrite_window / snapshot
day_rows = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 9)), max_size=8)
DV = pa.schema([("day", pa.date32()), ("v", pa.int64())])


@SETTINGS
@given(batches=st.lists(day_rows, min_size=1, max_size=4))
def test_overwrite_window_model(engine, batches):
    from datetime import date

    from loaders import OverwriteWindow

    table, model = fresh(engine), []
    for batch in batches:
        rows = [(date(2026, 1, d), v) for d, v in batch]
        OverwriteWindow(partition_by="day").run(
            table_of([{"day": d, "v": v} for d, v in rows], DV), engine.url, table=table
        )
        touched = {d for d, _ in rows}
        model = [r for r in model if r[0] not in touched] + rows
        assert engine.rows(table) == sorted_rows(model)


@SETTINGS
@given(
    runs=st.lists(st.tuples(st.integers(1, 6), st.lists(st.integers(0, 9), max_size=4)), min_size=1, max_size=5),
    retain=st.one_of(st.none(), st.integers(1, 3)),
)
def test_snapshot_model(engine, runs, retain):
    from datetime import date

    from loaders import Snapshot

    table, model = fresh(engine), {}
    schema = pa.schema([("v", pa.int64())])
    for day, values in runs:
        Snapshot(retain=retain).run(
            table_of([{"v": v} for v in values], schema), engine.url, table=table, run_time=datetime(2026, 1, day, 12)
        )
        model[date(2026, 1, day)] = values
        if retain:
            stamped = sorted((d for d in model if model[d]), reverse=True)
            keep = set(stamped[:retain])
            model = {d: vals for d, vals in model.items() if d in keep or (d >= min(keep) if keep else True)}
        expected = [(v, d) for d, vals in model.items() for v in vals]
        assert engine.rows(table) == sorted_rows(expected)
