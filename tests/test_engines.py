"""What each target adapter owns: identifiers, type mapping, locks, credentials. Run on every engine."""

from __future__ import annotations

import decimal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, datetime, timezone
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from loaders import CDC, SCD2, Append, FullReload, Merge, TargetError, TargetLocked, TransientTargetError
from loaders.targets import open_target

NO_SCHEMAS = {"sqlite", "generic"}


@pytest.fixture
def schema(engine: Any) -> Any:
    """A mixed-case schema with a space in its name (a database on MariaDB), removed afterwards."""
    if engine.name in NO_SCHEMAS:
        yield None
        return
    name = f"Sales Mart {uuid.uuid4().hex[:6]}"
    yield name
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    with e.begin() as conn:
        q = e.dialect.identifier_preparer.quote(name)
        conn.exec_driver_sql(f"drop database {q}" if engine.name == "mysql" else f"drop schema {q} cascade")
    e.dispose()


def test_awkward_identifiers(engine: Any, schema: str | None) -> None:
    """Schema-qualified, mixed case, spaces and reserved words, in tables and columns, for each strategy
    (``at`` and ``asof`` are keywords of DuckDB's own, which its SQLAlchemy dialect did not quote)."""
    prefix = f"{schema}." if schema else ""
    rows = [
        {"Customer ID": 1, "select": "a", "Order": 1, "MixedCase": "x", "op": "c", "Updated At": 1, "at": 1, "asof": 1},
        {"Customer ID": 2, "select": "b", "Order": 2, "MixedCase": "y", "op": "c", "Updated At": 2, "at": 2, "asof": 2},
    ]
    changed = [dict(rows[0], select="A", **{"Updated At": 3}), dict(rows[1], op="d", **{"Updated At": 4})]
    keys = ["Customer ID"]
    loaders = {
        "Dim Merge": Merge(keys=keys, delete_missing=True),
        "Dim History": SCD2(keys=keys, track=["select"]),
        "Change Feed": CDC(keys=keys, sequence="Updated At"),
        "Fact Append": Append(cursor="Updated At", keys=keys, lookback=1),
    }
    for name, loader in loaders.items():
        loader.run(rows, engine.url, table=prefix + name)
        loader.run(changed, engine.url, table=prefix + name)
    assert engine.rows(prefix + "Dim Merge", ["Customer ID", "select"]) == [(1, "A"), (2, "b")]
    assert engine.rows(prefix + "Dim History", ["Customer ID", "select", "is_current"]) == [
        (1, "A", True),
        (1, "a", False),
        (2, "b", True),
    ]
    assert engine.rows(prefix + "Change Feed", ["Customer ID", "select"]) == [(1, "A")]
    assert engine.rows(prefix + "Fact Append", ["Customer ID", "Updated At"]) == [(1, 1), (2, 2)]


TYPED = pa.schema(
    [
        ("id", pa.int64()),
        ("small", pa.int32()),
        ("f", pa.float64()),
        ("amount", pa.decimal128(12, 3)),
        ("flag", pa.bool_()),
        ("txt", pa.string()),
        ("day", pa.date32()),
        ("ts", pa.timestamp("us")),
        ("ts_utc", pa.timestamp("us", tz="UTC")),
    ]
)
BIG = "x" * 100_000


def typed_rows(version: int) -> pa.Table:
    base = datetime(2026, 5, 17, 13, 45, 30, 123456)
    rows = [
        {
            "id": 1,
            "small": 7,
            "f": 0.5,
            "amount": decimal.Decimal("1234.567"),
            "flag": True,
            "txt": "Ünïcødé ✓",
            "day": date(2026, 5, 17),
            "ts": base,
            "ts_utc": base.replace(tzinfo=timezone.utc),
        },
        {
            "id": 2,
            "small": None,
            "f": None,
            "amount": None,
            "flag": None,
            "txt": None,
            "day": None,
            "ts": None,
            "ts_utc": None,
        },
        {
            "id": 3,
            "small": -1,
            "f": -2.25,
            "amount": decimal.Decimal("-0.001"),
            "flag": False,
            "txt": BIG if version else "",
            "day": date(1999, 12, 31),
            "ts": datetime(1999, 12, 31, 23, 59, 59),
            "ts_utc": datetime(2000, 1, 1, tzinfo=timezone.utc),
        },
    ]
    return pa.Table.from_pylist(rows, schema=TYPED)


def normalise(value: Any) -> Any:
    """Compare zoned timestamps in UTC, whatever zone the driver hands them back in."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, float) and value.is_integer():
        return value
    return value


def test_types_round_trip(engine: Any) -> None:
    m = Merge(keys=["id"])
    m.run(typed_rows(0), engine.url, table="typed")
    r = m.run(typed_rows(1), engine.url, table="typed")
    assert (r.updated, r.unchanged) == (1, 2), "re-loading identical typed values must change nothing"
    got = [tuple(normalise(v) for v in row) for row in engine.rows("typed")]
    want = [tuple(normalise(v) for v in row.values()) for row in typed_rows(1).to_pylist()]
    for g, w in zip(got, want, strict=True):
        assert g[:4] == w[:4] and bool(g[4]) == bool(w[4]) if w[4] is not None else g[4] is None
        assert g[5:] == w[5:]


def test_second_run_of_same_mart_fails_fast_while_first_holds_lock(engine: Any) -> None:
    """PostgreSQL advisory locks, MariaDB GET_LOCK, DuckDB/SQLite file locks: a clear TargetLocked.
    The generic adapter knows no engine's error codes, so there the held lock is a terminal error."""
    Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t")
    holder = hold_lock(engine, "t")
    url = with_query(engine.url, loaders_lock_timeout="1")  # single-writer files wait; here only a second
    try:
        start = time.monotonic()
        with pytest.raises(TargetError if engine.name == "generic" else TargetLocked, match="lock|locked") as info:
            Merge(keys=["id"]).run([{"id": 2}], url, table="t")
        assert info.value.transient is (engine.name != "generic")
        assert time.monotonic() - start < 30
    finally:
        holder()
    assert engine.rows("t") == [(1,)]
    Merge(keys=["id"]).run([{"id": 2}], engine.url, table="t")  # once released, it runs
    assert engine.rows("t") == [(1,), (2,)]


@pytest.mark.parametrize("engine", ["postgres", "mysql"], indirect=True)
def test_two_marts_loading_one_table_do_not_interleave(engine: Any) -> None:
    """Two marts that write one table by mistake (two DAGs, say) take the table's lock too: while one
    loads, the other fails fast naming the table, and retries cleanly. (DuckDB and SQLite files have
    one writer at a time anyway.)"""
    Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t", mart="first")
    holder = hold_lock(engine, "table:t")  # what a run of `first` holds while it loads
    try:
        with pytest.raises(TargetLocked, match="mart second: another mart is loading table t"):
            Merge(keys=["id"]).run([{"id": 2}], engine.url, table="t", mart="second")
    finally:
        holder()
    assert engine.rows("t") == [(1,)]
    Merge(keys=["id"]).run([{"id": 2}], engine.url, table="t", mart="second")
    assert engine.rows("t") == [(1,), (2,)]


def with_query(url: str, **params: str) -> str:
    return sa.engine.make_url(url).update_query_dict(params).render_as_string(hide_password=False)


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"], indirect=True)
def test_a_single_writer_file_makes_the_second_run_wait(engine: Any) -> None:
    """Airflow runs tasks at once: on a DuckDB or SQLite file the second run waits for the writer
    (up to ``loaders_lock_timeout``, 300 s by default) and then loads, instead of failing."""
    Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t")
    release = hold_lock(engine, "t")
    timer = threading.Timer(3, release)
    timer.start()
    try:
        start = time.monotonic()
        Merge(keys=["id"]).run([{"id": 2}], engine.url, table="t")
        assert time.monotonic() - start >= 2
    finally:
        timer.join()
    assert engine.rows("t") == [(1,), (2,)]


def hold_lock(engine: Any, mart: str) -> Any:
    """Take the lock a concurrent run would hold (of a mart, or ``table:<name>`` for a table's);
    returns the function that releases it."""
    if engine.name == "duckdb":  # DuckDB locks the file per process: hold it from another process
        path = sa.engine.make_url(engine.url).database
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb,time; c=duckdb.connect({path!r}); print('ready', flush=True); time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
        return lambda: (proc.kill(), proc.wait())
    threadable = {"check_same_thread": False} if engine.name in ("sqlite", "generic") else {}
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool, connect_args=threadable)
    conn = e.connect()
    if engine.name == "postgres":
        from loaders.targets.postgres import lock_key

        scope = conn.execute(sa.text("select current_database() || '.' || current_schema()")).scalar()
        conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": lock_key(str(scope), mart)})
    elif engine.name == "mysql":
        import hashlib

        db = conn.execute(sa.text("select database()")).scalar()
        conn.execute(
            sa.text("select get_lock(:n, 0)"), {"n": "loaders:" + hashlib.sha1(f"{db}:{mart}".encode()).hexdigest()}
        )
    else:  # SQLite: a writer holding the database
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
    conn.commit() if engine.name in ("postgres", "mysql") else None

    def release() -> None:
        conn.close()
        e.dispose()

    return release


def test_password_never_shown(engine: Any) -> None:
    if engine.name not in ("postgres", "mysql"):
        pytest.skip("embedded engines have no password")
    url = sa.engine.make_url(engine.sa_url)
    if engine.name == "postgres":  # trust auth accepts any password: a load works and must not leak it
        secret_url = url.set(password="s3cret-pw").render_as_string(hide_password=False)
        r = Merge(keys=["id"]).run([{"id": 1}], secret_url, table="t")
        assert "s3cret" not in repr(r)
        with pytest.raises(Exception) as info:
            Merge(keys=["id"]).run([{"id": None}], secret_url, table="t")
        assert "s3cret" not in str(info.value)
        assert open_target(secret_url).describe().count("***") == 1
        assert "s3cret" not in str(engine.rows("_loaders_runs"))
    else:  # a wrong password fails to connect: the error must not repeat it
        bad = url.set(password="s3cret-pw").render_as_string(hide_password=False)
        with pytest.raises(Exception) as info:
            Merge(keys=["id"]).run([{"id": 1}], bad, table="t")
        assert "s3cret" not in str(info.value) and "Access denied" in str(info.value)


def test_state_tables_of_an_older_version_gain_new_columns(engine: Any) -> None:
    """A run log created before `batch_key` existed is extended, not broken, by a newer loaders."""
    from loaders.state import RUNS, _tables

    runs = _tables(None)[1]
    old = sa.Table(RUNS, sa.MetaData(), *(sa.Column(c.name, c.type) for c in runs.columns if c.name != "batch_key"))
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    with e.begin() as conn:
        old.create(conn)
    e.dispose()
    assert Merge(keys=["id"]).run([{"id": 1}], engine.url, table="t").status == "success"
    assert engine.rows("_loaders_runs", ["status", "batch_key"]) == [("success", None)]


# --------------------------------------------------------------------------- errors by driver code
def test_a_terminal_database_error_is_not_transient(engine: Any) -> None:
    """A NOT NULL violation (SQLSTATE 23502, MariaDB 1048, SQLite constraint, DuckDB constraint) can never
    succeed on retry: a plain TargetError, which the Airflow operator does not retry."""
    e = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
    with e.begin() as conn:
        conn.exec_driver_sql("create table t (id integer, v integer not null)")
    e.dispose()
    with pytest.raises(TargetError) as info:
        FullReload().run([{"id": 1, "v": None}], engine.url, table="t")
    assert type(info.value) is TargetError and not info.value.transient
    assert engine.rows("t") == []


def test_a_lost_connection_is_transient(engine: Any) -> None:
    """The server ends the load's session mid-load (pg_terminate_backend, MariaDB KILL): transient, so a
    retry runs, and nothing of the interrupted load is kept."""
    if engine.name not in ("postgres", "mysql"):
        pytest.skip(f"{engine.name} is embedded: no connection to lose (its file lock is the transient case)")
    own_id = "select pg_backend_pid()" if engine.name == "postgres" else "select connection_id()"
    kill = "select pg_terminate_backend({})" if engine.name == "postgres" else "kill {}"
    Merge(keys=["id"]).run([{"id": 1, "v": "a"}], engine.url, table="t")

    def cut(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE"):
            cursor.execute(own_id)
            victim = cursor.fetchone()[0]
            admin = sa.create_engine(engine.sa_url, poolclass=sa.pool.NullPool)
            with admin.connect() as other:
                other.exec_driver_sql(kill.format(int(victim)))
            admin.dispose()

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", cut)
    try:
        with pytest.raises(TransientTargetError):
            Merge(keys=["id"]).run([{"id": 1, "v": "b"}, {"id": 2, "v": "b"}], engine.url, table="t")
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", cut)
    assert engine.rows("t") == [(1, "a")]
    Merge(keys=["id"]).run([{"id": 1, "v": "b"}, {"id": 2, "v": "b"}], engine.url, table="t")  # the retry
    assert engine.rows("t") == [(1, "b"), (2, "b")]


def test_duckdb_keywords_written_out_cover_the_installed_duckdb() -> None:
    """The adapter quotes DuckDB's reserved words from a list written out (asking an in-memory DuckDB
    cost every start 0.02-0.05 s); the installed DuckDB must reserve no word the list lacks."""
    import duckdb

    from loaders.targets.duckdb import KEYWORDS

    query = "select keyword_name from duckdb_keywords() where keyword_category <> 'unreserved'"
    with duckdb.connect() as con:
        reserved = {r[0] for r in con.execute(query).fetchall()}
    assert reserved <= KEYWORDS, f"DuckDB {duckdb.__version__} reserves {sorted(reserved - KEYWORDS)}"
