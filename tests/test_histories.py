"""Histories: hypothesis state machines that drive one mart through a sequence of loads, retries and
bad batches, on every engine, and check it against a plain-Python model after every step.

Where `test_models.py` checks each strategy's rows over random batches, these add what happens around
a load in production: a retried batch (its batch key already applied: skipped, nothing changes), a
bad batch (refused with the mart named: rows, watermark and the run log's past unchanged), deletes
and keys that come back, CDC events that arrive late or twice, and columns that appear. After every
step the table, the watermark and the run log's counts by status must equal the model's.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from test_conformance import UNSUPPORTED

from loaders import CDC, SCD2, Append, DataContractError, FullReload, Merge
from loaders.api import Runnable
from loaders.state import RUNS, WATERMARKS, decode

pytestmark = pytest.mark.slow

#: up to 6 steps a history; CI checks 12 histories per strategy and engine, the long profile its count
#: (`pytest tests/test_histories.py --hypothesis-profile long`)
_CI = settings.default.max_examples <= 25
HISTORIES = settings(settings.default, max_examples=12 if _CI else settings.default.max_examples, stateful_step_count=6)
T0 = datetime(2026, 1, 1)

keys = st.integers(0, 5)
values = st.sampled_from(["a", "b", None])
snapshot = st.dictionaries(keys, st.tuples(values, values), max_size=6)
KV = pa.schema([("id", pa.int64()), ("v", pa.string()), ("w", pa.string())])


def kv_rows(snap: dict[Any, tuple[Any, Any]]) -> pa.Table:
    return pa.Table.from_pylist([{"id": k, "v": v, "w": w} for k, (v, w) in snap.items()], schema=KV)


def sorted_rows(rows: Any) -> list[tuple[Any, ...]]:
    from conftest import _sort_key

    return sorted((tuple(r) for r in rows), key=_sort_key)


class History(RuleBasedStateMachine):
    """What every strategy shares: loads under batch keys, retries of applied keys, refused batches,
    and the check of table + watermark + run log after each step. Subclasses say how a good batch
    changes the model (``apply``) and what a bad batch of theirs looks like (``bad_batch``)."""

    engine: Any  # conftest.Engine, set per test

    def __init__(self) -> None:
        super().__init__()
        self.table = f"h_{uuid.uuid4().hex[:10]}"
        self.loads = 0
        self.log: Counter[str] = Counter()
        self.applied: list[tuple[str, pa.Table]] = []
        self.watermark: Any = None

    def teardown(self) -> None:
        """Each history's table goes, so a long run does not fill one database with tables."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"drop table if exists {self.table}")
            conn.commit()

    # what a strategy says
    def loader(self) -> Runnable:
        raise NotImplementedError

    def expected_rows(self) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def bad_batch(self) -> tuple[pa.Table, str]:
        """A batch the strategy must refuse, and a pattern its message must match."""
        return pa.Table.from_pylist([{"id": None, "v": "a", "w": "x"}], schema=KV), "NULL"

    # running
    def run(self, batch: pa.Table, key: str | None) -> Any:
        self.loads += 1
        return self.loader().run(
            batch, self.engine.url, table=self.table, batch_key=key, run_time=T0 + timedelta(days=self.loads)
        )

    def load(self, batch: pa.Table) -> Any:
        """A good batch: it must succeed, and is kept for retries."""
        key = f"batch-{self.loads}"
        result = self.run(batch, key)
        assert result.status == "success", result.error
        self.log["success"] += 1
        self.applied.append((key, batch))
        return result

    def refused(self, batch: pa.Table, match: str) -> None:
        with pytest.raises(DataContractError, match=match) as e:
            self.run(batch, f"batch-{self.loads}")
        assert self.table in str(e.value)  # the mart is named
        self.log["failed"] += 1

    # rules every strategy has
    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def retry_an_applied_batch(self, data: st.DataObject) -> None:
        """An Airflow retry or a cleared task: the same batch key again, perhaps long after."""
        key, batch = data.draw(st.sampled_from(self.applied))
        result = self.run(batch, key)
        assert result.status == "skipped"
        self.log["skipped"] += 1

    @rule()
    def bad_batch_changes_nothing(self) -> None:
        batch, match = self.bad_batch()
        self.refused(batch, match)

    @invariant()
    def target_matches_the_model(self) -> None:
        if not self.loads:
            return
        with self.engine.connect() as conn:
            if self.log["success"]:
                assert self.engine.rows_on(conn, self.table) == self.expected_rows()
            runs = sa.table(RUNS, sa.column("mart"), sa.column("status"))
            counts = conn.execute(
                sa.select(runs.c.status, sa.func.count()).where(runs.c.mart == self.table).group_by(runs.c.status)
            )
            assert dict(counts.all()) == dict(self.log)
            marks = sa.table(WATERMARKS, sa.column("mart"), sa.column("value"), sa.column("value_type"))
            row = conn.execute(sa.select(marks.c.value, marks.c.value_type).where(marks.c.mart == self.table)).first()
            assert (None if row is None else decode(row[0], row[1])) == self.watermark


# --------------------------------------------------------------------------- full
class FullHistory(History):
    @initialize(allow_empty=st.booleans())
    def options(self, allow_empty: bool) -> None:
        self.allow_empty, self.model = allow_empty, {}

    def loader(self) -> Runnable:
        return FullReload(keys=["id"], allow_empty=self.allow_empty)

    @rule(snap=snapshot)
    def reload(self, snap: dict[int, tuple[Any, Any]]) -> None:
        if not snap and self.model and not self.allow_empty:
            self.refused(kv_rows(snap), "the source is empty")
            return
        self.load(kv_rows(snap))
        self.model = dict(snap)

    def expected_rows(self) -> list[tuple[Any, ...]]:
        return sorted_rows((k, v, w) for k, (v, w) in self.model.items())


# --------------------------------------------------------------------------- merge (+ new columns)
class MergeHistory(History):
    @initialize(
        method=st.sampled_from(["update_insert", "merge", "upsert", "delete_insert"]),
        delete_missing=st.booleans(),
        allow_empty=st.booleans(),
    )
    def options(self, method: str, delete_missing: bool, allow_empty: bool) -> None:
        if method in UNSUPPORTED.get(self.engine.name, set()):
            method = "update_insert"
        self.method, self.delete_missing, self.allow_empty = method, delete_missing, allow_empty
        self.model: dict[int, dict[str, Any]] = {}
        self.columns: list[str] = []  # added columns, in the order they arrived

    def loader(self) -> Runnable:
        return Merge(
            keys=["id"],
            method=self.method,
            delete_missing=self.delete_missing,
            allow_empty=self.allow_empty,
            schema_change="add_columns",
        )

    @rule(
        rows=st.dictionaries(keys, st.tuples(values, values, values), max_size=5),
        extra=st.lists(st.sampled_from(["x1", "x2"]), unique=True, max_size=2),
    )
    def upsert(self, rows: dict[int, tuple[Any, Any, Any]], extra: list[str]) -> None:
        schema = pa.schema([("id", pa.int64()), ("v", pa.string()), *((c, pa.string()) for c in extra)])
        data = [{"id": k, "v": v, **{c: {"x1": x1, "x2": x2}[c] for c in extra}} for k, (v, x1, x2) in rows.items()]
        batch = pa.Table.from_pylist(data, schema=schema)
        if not data and self.model and self.delete_missing and not self.allow_empty:
            self.refused(batch, "the source is empty")
            return
        before = {k: dict(r) for k, r in self.model.items()}
        result = self.load(batch)
        self.columns += [c for c in extra if c not in self.columns]
        gone = [k for k in self.model if k not in rows] if self.delete_missing else []
        for k in gone:
            del self.model[k]
        for row in data:
            if self.method == "delete_insert":  # the row is replaced: a column the batch lacks is NULL
                self.model[row["id"]] = dict(row)
            else:  # updated in place: a column the batch lacks keeps its value
                self.model.setdefault(row["id"], {}).update(row)
        new = [k for k in rows if k not in before]
        changed = [k for k in rows if k in before and any(before[k].get(c) != v for c, v in self.model[k].items())]
        assert (result.inserted, result.deleted) == (len(new), len(gone))
        if self.method != "delete_insert":
            assert result.updated == len(changed)

    def bad_batch(self) -> tuple[pa.Table, str]:
        two = [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}]
        return pa.Table.from_pylist(two, schema=pa.schema([("id", pa.int64()), ("v", pa.string())])), "more than once"

    def expected_rows(self) -> list[tuple[Any, ...]]:
        return sorted_rows((k, r["v"], *(r.get(c) for c in self.columns)) for k, r in self.model.items())


# --------------------------------------------------------------------------- append
class AppendHistory(History):
    """Cursor only (every row past the watermark), or keyed with a look-back (late rows, no doubles)."""

    @initialize(keyed=st.booleans(), lookback=st.integers(0, 10))
    def options(self, keyed: bool, lookback: int) -> None:
        self.keyed, self.lookback = keyed, lookback if keyed else 0
        self.model: list[tuple[int, Any]] = []

    def loader(self) -> Runnable:
        if self.keyed:
            return Append(cursor="c", keys=["id"], lookback=self.lookback)
        return Append(cursor="c")

    @rule(batch=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 30)), max_size=6))
    def append(self, batch: list[tuple[int, int]]) -> None:
        if self.keyed:
            batch = list(dict(batch).items())  # one row a key in a batch
        wm = self.watermark
        self.load(pa.Table.from_pylist([{"id": k, "c": c} for k, c in batch], schema=IC))
        window = [(k, c) for k, c in batch if wm is None or c > wm - self.lookback]
        if self.keyed:
            have = {k for k, _ in self.model}
            self.model += [(k, c) for k, c in window if k not in have]
        else:
            self.model += window
        self.watermark = max([wm] * (wm is not None) + [c for _, c in window], default=None)

    def bad_batch(self) -> tuple[pa.Table, str]:
        return pa.Table.from_pylist([{"id": 99, "c": None}], schema=IC), "NULL"

    def expected_rows(self) -> list[tuple[Any, ...]]:
        return sorted_rows(self.model)


IC = pa.schema([("id", pa.int64()), ("c", pa.int64())])


# --------------------------------------------------------------------------- scd2
class SCD2History(History):
    @initialize(deletes=st.sampled_from(["ignore", "close"]), allow_empty=st.booleans())
    def options(self, deletes: str, allow_empty: bool) -> None:
        self.deletes, self.allow_empty = deletes, allow_empty
        self.versions: list[list[Any]] = []  # [id, v, w, valid_from, valid_to, is_current]

    def loader(self) -> Runnable:
        return SCD2(keys=["id"], track=["v"], deletes=self.deletes, allow_empty=self.allow_empty)

    @rule(snap=snapshot)
    def snapshot(self, snap: dict[int, tuple[Any, Any]]) -> None:
        current = {row[0]: row for row in self.versions if row[5]}
        if not snap and current and self.deletes == "close" and not self.allow_empty:
            self.refused(kv_rows(snap), "the source is empty")
            return
        self.load(kv_rows(snap))
        t = T0 + timedelta(days=self.loads)
        for k, (v, w) in snap.items():
            row = current.get(k)
            if row is not None and row[1] != v:
                row[4], row[5] = t, False
                self.versions.append([k, v, w, t, None, True])
            elif row is not None:
                row[2] = w  # an untracked column is updated in place
            else:  # new, or back after it was closed
                self.versions.append([k, v, w, t, None, True])
        if self.deletes == "close":
            for k, row in current.items():
                if k not in snap:
                    row[4], row[5] = t, False

    def bad_batch(self) -> tuple[pa.Table, str]:
        return pa.Table.from_pylist([{"id": 1, "v": "a", "w": None}, {"id": 1, "v": "b", "w": None}], schema=KV), (
            "more than once"
        )

    def expected_rows(self) -> list[tuple[Any, ...]]:
        return sorted_rows(tuple(r) for r in self.versions)


# --------------------------------------------------------------------------- cdc
OPS = pa.schema([("op", pa.string()), ("id", pa.int64()), ("v", pa.string()), ("seq", pa.int64())])
events = st.lists(
    st.tuples(st.sampled_from(["I", "U", "D", "c", "u", "d", "r"]), st.integers(0, 4), values), max_size=6
)


class CDCHistory(History):
    """A change feed whose batches come shuffled, with events sent again (replays) and events that
    arrive a batch late, below the watermark: those are skipped, as the strategy documents."""

    @initialize()
    def options(self) -> None:
        self.model: dict[int, tuple[Any, int]] = {}
        self.seq = 0
        self.sent: list[tuple[str, int, Any, int]] = []
        self.held: list[tuple[str, int, Any, int]] = []

    def loader(self) -> Runnable:
        return CDC(keys=["id"], sequence="seq")

    @rule(feed=events, data=st.data())
    def changes(self, feed: list[tuple[str, int, Any]], data: st.DataObject) -> None:
        new = []
        for op, k, v in feed:
            self.seq += 1
            new.append((op, k, v, self.seq))
        late = data.draw(st.lists(st.sampled_from(new), unique=True, max_size=2)) if new else []
        batch = [e for e in new if e not in late] + self.held
        if self.sent:
            batch += data.draw(st.lists(st.sampled_from(self.sent), unique=True, max_size=3))
        batch = data.draw(st.permutations(list(dict.fromkeys(batch))))
        self.held = late
        self.load(pa.Table.from_pylist([{"op": o, "id": k, "v": v, "seq": s} for o, k, v, s in batch], schema=OPS))
        self.sent += [e for e in batch if e not in self.sent]
        wm = self.watermark
        for op, k, v, s in sorted((e for e in batch if wm is None or e[3] > wm), key=lambda e: e[3]):
            if op.upper() == "D":
                self.model.pop(k, None)
            else:
                self.model[k] = (v, s)
            self.watermark = s

    def bad_batch(self) -> tuple[pa.Table, str]:
        return pa.Table.from_pylist([{"op": "I", "id": 1, "v": "a", "seq": None}], schema=OPS), "NULL"

    def expected_rows(self) -> list[tuple[Any, ...]]:
        return sorted_rows((k, v, s) for k, (v, s) in self.model.items())


MACHINES = {"full": FullHistory, "merge": MergeHistory, "append": AppendHistory, "scd2": SCD2History, "cdc": CDCHistory}


@pytest.mark.parametrize("strategy", list(MACHINES))
def test_history(engine: Any, strategy: str) -> None:
    machine = type(f"{MACHINES[strategy].__name__}On{engine.name.title()}", (MACHINES[strategy],), {"engine": engine})
    run_state_machine_as_test(machine, settings=HISTORIES)
