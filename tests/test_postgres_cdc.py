"""A live PostgreSQL table followed through logical replication (`source: {postgres_cdc: ...}`), on a
throwaway cluster with `wal_level=logical` (the shared server must not be changed), into every engine.

After every run the mart must equal the source table, row for row: after the first copy, after
several changes to one key in one transaction, a key update, deletes, a transaction that was open
during a run, and a loader killed between the target's commit and the slot's advance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from pgcluster import Cluster, throwaway_postgres

from loaders import SourceError, load_mart, parse_mart

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("logical_pg")]
COLUMNS = ["id", "status", "amount", "note"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with throwaway_postgres({"wal_level": "logical", "max_replication_slots": "100", "max_wal_senders": "20"}) as c:
        yield c


class Shop:
    """One source table with its own publication and slot names."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.name = f"orders_{uuid.uuid4().hex[:8]}"
        self.dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
        self.sql(f"create table {self.name} (id int primary key, status text, amount numeric(10,2), note text)")
        self.sql(
            f"insert into {self.name} values (1, 'new', 10.50, 'a'), (2, 'new', 20.00, 'b'), (3, 'new', 5.25, 'c')"
        )

    def sql(self, *statements: str) -> None:
        """Statements in one transaction."""
        with psycopg.connect(self.dsn) as conn:
            for s in statements:
                conn.execute(s)

    def waiting(self, slot: str) -> int:
        """Row changes in the slot, not consumed."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "select data from pg_logical_slot_peek_binary_changes(%s, NULL, NULL, 'proto_version', '1', "
                "'publication_names', %s)",
                (slot, f"p_{self.name}"),
            ).fetchall()
        return sum(1 for (data,) in rows if bytes(data)[:1] in (b"I", b"U", b"D"))

    def rows(self) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return [tuple(r) for r in conn.execute(f"select {', '.join(COLUMNS)} from {self.name} order by id")]

    def mart(self, strategy: str = "cdc", slot: str = "") -> Any:
        source = {
            "url": self.cluster.url,
            "table": f"public.{self.name}",
            "slot": slot or f"s_{self.name}",
            "publication": f"p_{self.name}",
        }
        return parse_mart(
            self.name, {"strategy": strategy, "table": self.name, "keys": ["id"], "source": {"postgres_cdc": source}}
        )


@pytest.fixture
def shop(cluster: Cluster) -> Iterator[Shop]:
    """A table of its own; its replication slots are dropped afterwards (a slot left behind keeps WAL)."""
    made = Shop(cluster)
    yield made
    with psycopg.connect(made.dsn, autocommit=True) as conn:
        conn.execute(
            "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like %s",
            (f"%{made.name}%",),
        )


def mart_rows(engine: Any, table: str) -> list[tuple[Any, ...]]:
    return [tuple(_decimal(v) for v in r) for r in engine.rows(table, COLUMNS)]


def _decimal(v: Any) -> Any:
    return Decimal(str(v)).quantize(Decimal("0.01")) if isinstance(v, (float, Decimal)) else v


def test_the_mart_follows_the_table(engine: Any, shop: Shop) -> None:
    first = load_mart(shop.name, shop.mart(), engine.url)
    assert first.inserted == 3
    assert mart_rows(engine, shop.name) == shop.rows()
    shop.sql(f"insert into {shop.name} values (4, 'new', 7.00, 'd')")
    shop.sql(  # several changes to one key in one transaction
        f"update {shop.name} set status = 'paid' where id = 1",
        f"update {shop.name} set status = 'shipped', note = 'fast' where id = 1",
    )
    shop.sql(f"update {shop.name} set id = 20 where id = 2")  # the key changes
    shop.sql(f"delete from {shop.name} where id = 3")
    second = load_mart(shop.name, shop.mart(), engine.url)
    assert mart_rows(engine, shop.name) == shop.rows()
    assert second.deleted == 2  # id 3, and the old key 2
    again = load_mart(shop.name, shop.mart(), engine.url)  # nothing new in the slot
    assert (again.rows_in, again.inserted, again.updated, again.deleted) == (0, 0, 0, 0)
    assert mart_rows(engine, shop.name) == shop.rows()


def test_a_transaction_open_during_a_run_is_not_lost(engine: Any, shop: Shop) -> None:
    load_mart(shop.name, shop.mart(), engine.url)
    with psycopg.connect(shop.dsn) as slow:
        slow.execute(f"insert into {shop.name} values (10, 'slow', 1.00, 'began first')")
        shop.sql(f"update {shop.name} set status = 'quick' where id = 1")  # commits while `slow` is open
        load_mart(shop.name, shop.mart(), engine.url)
        assert (10, "slow", Decimal("1.00"), "began first") not in mart_rows(engine, shop.name)
    # `slow` commits now, with a later commit position than the run's watermark
    load_mart(shop.name, shop.mart(), engine.url)
    assert mart_rows(engine, shop.name) == shop.rows()


KILL_AFTER_COMMIT = """
import os, signal, sys
from loaders import load_mart, parse_mart
from loaders.sources.postgres_cdc import PostgresCDCSource
PostgresCDCSource.committed = lambda self: os.kill(os.getpid(), signal.SIGKILL)  # dies before the slot moves
import json
load_mart(sys.argv[1], parse_mart(sys.argv[1], json.loads(sys.argv[2])), sys.argv[3])
"""


@pytest.mark.parametrize("strategy", ["cdc", "scd2"])
def test_killed_between_target_commit_and_slot_advance(engine: Any, shop: Shop, strategy: str) -> None:
    """The changes are read again; the watermark drops them: nothing lost, nothing doubled (for the
    history mart: one version per committed change)."""
    import json

    spec = shop.mart(strategy)
    load_mart(shop.name, spec, engine.url)
    shop.sql(
        f"update {shop.name} set status = 'paid' where id = 1", f"insert into {shop.name} values (5, 'new', 3.00, 'e')"
    )
    dumped = json.dumps(spec.model_dump(mode="json", exclude_none=True))
    child = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_COMMIT, shop.name, dumped, engine.url], capture_output=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert shop.waiting(spec.source.postgres_cdc.slot) == 2  # the slot did not move: both changes come again
    after = load_mart(shop.name, spec, engine.url)  # and are skipped by the watermark
    assert (after.inserted, after.updated) == (0, 0)
    assert shop.waiting(spec.source.postgres_cdc.slot) == 0
    if strategy == "cdc":
        assert mart_rows(engine, shop.name) == shop.rows()
    else:
        versions = engine.rows(shop.name, ["id", "status", "is_current"])
        assert versions == [(1, "new", False), (1, "paid", True), (2, "new", True), (3, "new", True), (5, "new", True)]
    again = load_mart(shop.name, spec, engine.url)  # the slot has moved on now
    assert again.rows_in == 0


def test_history_from_the_slot(engine: Any, shop: Shop) -> None:
    spec = shop.mart("scd2")
    load_mart(shop.name, spec, engine.url)
    shop.sql(
        f"update {shop.name} set status = 'paid' where id = 1",
        f"update {shop.name} set status = 'shipped' where id = 1",
    )
    shop.sql(f"delete from {shop.name} where id = 2")
    shop.sql(f"insert into {shop.name} values (2, 'again', 1.00, 'back')")
    load_mart(shop.name, spec, engine.url)
    history = engine.rows(shop.name, ["id", "status", "is_current"])
    assert history == [
        (1, "new", False),
        (1, "paid", False),
        (1, "shipped", True),
        (2, "again", True),
        (2, "new", False),
        (3, "new", True),
    ]
    current = engine.rows(shop.name, COLUMNS + ["is_current"])
    assert [tuple(_decimal(v) for v in r[:-1]) for r in current if r[-1]] == shop.rows()


def test_a_table_without_a_key_is_refused_naming_replica_identity(duck: Any, shop: Shop) -> None:
    shop.sql(f"create table nokey_{shop.name} (id int, v text)")
    spec = shop.mart().model_copy(update={"source": None})
    source = {"postgres_cdc": {"url": shop.cluster.url, "table": f"nokey_{shop.name}", "slot": "x", "publication": "y"}}
    spec = parse_mart("nokey", {"strategy": "cdc", "table": "nokey", "keys": ["id"], "source": source})
    with pytest.raises(SourceError, match="REPLICA IDENTITY") as e:
        load_mart("nokey", spec, duck.url)
    assert "mart nokey" in str(e.value)


def test_a_dropped_slot_is_a_clear_error_and_changes_nothing(duck: Any, shop: Shop) -> None:
    load_mart(shop.name, shop.mart(), duck.url)
    before = duck.rows(shop.name, COLUMNS)
    shop.sql(f"select pg_drop_replication_slot('s_{shop.name}')")
    shop.sql(f"update {shop.name} set status = 'lost' where id = 1")
    with pytest.raises(SourceError, match="slot .* is gone"):
        load_mart(shop.name, shop.mart(), duck.url)
    assert duck.rows(shop.name, COLUMNS) == before


def test_plan_shows_the_waiting_changes_without_consuming_them(duck: Any, shop: Shop) -> None:
    load_mart(shop.name, shop.mart(), duck.url)
    shop.sql(f"update {shop.name} set status = 'paid' where id = 1", f"delete from {shop.name} where id = 3")
    planned = load_mart(shop.name, shop.mart(), duck.url, plan=True)
    assert planned.rows_in == 2
    loaded = load_mart(shop.name, shop.mart(), duck.url)
    assert loaded.rows_in == 2
    assert duck.rows(shop.name, COLUMNS) == [tuple(r) for r in shop.rows()]


def test_wal_level_replica_is_refused(duck: Any) -> None:
    url = os.environ.get("LOADERS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs LOADERS_TEST_POSTGRES_URL (the shared server runs wal_level=replica)")
    source = {"postgres_cdc": {"url": url, "table": "public.nothing", "slot": "s", "publication": "p"}}
    spec = parse_mart("o", {"strategy": "cdc", "table": "o", "keys": ["id"], "source": source})
    with pytest.raises(SourceError, match="wal_level=logical"):
        load_mart("o", spec, duck.url)


def test_unchanged_toast_values_are_kept(engine: Any, shop: Shop) -> None:
    """PostgreSQL does not send a TOAST value an update left alone; the marts keep the one they have."""
    shop.sql(f"alter table {shop.name} alter column note set storage external")  # stored out of line, uncompressed
    shop.sql(f"update {shop.name} set note = repeat('n', 5000) where id = 1")
    history = shop.mart("scd2", slot=f"h_{shop.name}").model_copy(update={"table": shop.name + "_h"})
    load_mart(shop.name, shop.mart(), engine.url)
    load_mart(shop.name + "_h", history, engine.url)
    shop.sql(f"update {shop.name} set status = 'paid' where id = 1")  # `note` is not in this change
    load_mart(shop.name, shop.mart(), engine.url)
    load_mart(shop.name + "_h", history, engine.url)
    assert mart_rows(engine, shop.name) == shop.rows()
    versions = engine.rows(shop.name + "_h", ["id", "status", "note"])
    assert [(i, s, len(n)) for i, s, n in versions if i == 1] == [(1, "new", 5000), (1, "paid", 5000)]


def test_replica_identity_full(engine: Any, shop: Shop) -> None:
    """With REPLICA IDENTITY FULL every column is in the old image: an update is still an update (the
    primary key says what a key change is), a key change still removes the old key."""
    shop.sql(f"alter table {shop.name} replica identity full")
    load_mart(shop.name, shop.mart(), engine.url)
    shop.sql(f"update {shop.name} set status = 'paid' where id = 1")
    shop.sql(f"update {shop.name} set id = 22 where id = 2")
    shop.sql(f"delete from {shop.name} where id = 3")
    r = load_mart(shop.name, shop.mart(), engine.url)
    assert mart_rows(engine, shop.name) == shop.rows()
    assert (r.inserted, r.updated, r.deleted) == (1, 1, 2)


def test_lineage_names_the_source_table() -> None:
    from loaders.lineage import source_datasets
    from loaders.spec import PostgresCDCSource

    feed = {"url": "postgresql://loader@db:5432/shop", "table": "orders", "slot": "s", "publication": "p"}
    assert source_datasets(PostgresCDCSource(postgres_cdc=feed)) == [("postgres://db:5432", "shop.public.orders")]


def test_two_marts_cannot_share_a_slot() -> None:
    from loaders import SpecError, parse_project

    feed = {"url": "postgresql://loader@db/shop", "table": "orders", "slot": "shared", "publication": "p"}
    marts = {
        "orders": {"strategy": "cdc", "keys": ["id"], "source": {"postgres_cdc": feed}},
        "order_history": {"strategy": "scd2", "keys": ["id"], "source": {"postgres_cdc": feed}},
    }
    with pytest.raises(SpecError, match="mart order_history: replication slot 'shared' is also the source of mart"):
        parse_project({"target": "duckdb:///w.duckdb", "marts": marts})
