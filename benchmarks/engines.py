"""Every strategy on every engine: loaders against hand-written SQL on the same engine, in the same run.

    python benchmarks/engines.py [--rows 1000000] [--batch 200000] [--repeat 2] [--engine postgres ...]
                                 [--only merge ...]

PostgreSQL and MariaDB come from LOADERS_TEST_POSTGRES_URL / LOADERS_TEST_MYSQL_URL (skipped if unset).
Both sides start from an identical copy of a 1M-row table with an index on the key (unique for cdc,
whose hand-written upsert needs it) and get the same 200k-row Arrow batch (half updates of existing
keys, a quarter of those changed, half new keys; cdc: the same rows as a feed with 10% deletes). The
hand-written side stages the batch the way that engine's users would (DuckDB: register Arrow;
PostgreSQL: COPY; MariaDB/SQLite: executemany into a temp table) and then runs the SQL a data engineer
would write: full DELETE + INSERT; append INSERT ... WHERE updated_at > the newest; merge MERGE (DuckDB,
PostgreSQL) or UPDATE ... JOIN/FROM + INSERT ... WHERE NOT EXISTS; scd2 close the changed current rows
+ overwrite the untracked columns of the unchanged ones (type 1, as loaders does) + insert new
versions; cdc keep each key's last event, DELETE the deleted keys, upsert the rest
(MERGE, ON CONFLICT, ON DUPLICATE KEY). Targets (issue 14): PostgreSQL <= 1.3x, MariaDB and SQLite <= 1.0x.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import sqlalchemy as sa

from loaders import CDC, SCD2, Append, FullReload, Merge

sys.path.insert(0, str(Path(__file__).parent))
from bench import seed_watermark  # noqa: E402

COLS = ["id", "name", "city", "amount", "updated_at"]
STRATEGIES = ["full", "append", "merge", "scd2", "cdc"]


# ---------------------------------------------------------------------- the data
def base_table(rows: int) -> pa.Table:
    ids = pa.array(range(rows), pa.int64())
    return pa.table(
        {
            "id": ids,
            "name": pc.binary_join_element_wise("name ", pc.cast(ids, pa.string()), ""),
            "city": pc.take(pa.array(["Oslo", "Lyon", "Ghent", "Turin"]), pc.bit_wise_and(ids, 3)),
            "amount": pc.divide(pc.cast(pc.bit_wise_and(ids, 1023), pa.float64()), 10.0),
            "updated_at": pa.array([0] * rows, pa.timestamp("us")),
        }
    )


def batch_table(rows: int, batch: int) -> pa.Table:
    half = batch // 2
    old = base_table(rows).take(pa.array(range(0, rows, max(rows // half, 1))[:half]))
    city = pc.if_else(pc.equal(pc.bit_wise_and(old["id"], 3), 0), "Bergen", old["city"])
    old = old.set_column(2, "city", city)
    new = base_table(half)
    new = new.set_column(0, "id", pc.add(new["id"], rows))
    later = pa.array([86_400_000_000] * batch, pa.int64()).cast(pa.timestamp("us"))  # a day after the base rows
    return pa.concat_tables([old, new]).set_column(4, "updated_at", later)


def history(table: pa.Table) -> pa.Table:
    n = table.num_rows
    return (
        table.append_column("valid_from", table["updated_at"])
        .append_column("valid_to", pa.nulls(n, pa.timestamp("us")))
        .append_column("is_current", pa.array([True] * n))
    )


def feed(table: pa.Table, rows: int) -> pa.Table:
    """cdc: the batch as change events (every tenth a delete), LSNs past the base's."""
    ids = table["id"]
    op = pc.if_else(pc.equal(pc.bit_wise_and(ids, 15), 0), "d", "u")
    lsn = pa.array(range(rows, rows + table.num_rows), pa.int64())
    return pa.table({"op": op, **{c: table[c] for c in COLS[:4]}, "lsn": lsn})


def cdc_base(table: pa.Table) -> pa.Table:
    return pa.table({**{c: table[c] for c in COLS[:4]}, "lsn": table["id"]})


def engines(tmp: Path) -> dict[str, str]:
    out = {"duckdb": f"duckdb:///{tmp / 'bench.duckdb'}", "sqlite": f"sqlite:///{tmp / 'bench.db'}"}
    for name, var in (("postgres", "LOADERS_TEST_POSTGRES_URL"), ("mysql", "LOADERS_TEST_MYSQL_URL")):
        if os.environ.get(var):
            out[name] = os.environ[var]
    return out


# ---------------------------------------------------------------------- both sides start equal
def fresh_copy(url: str, name: str, base: pa.Table, unique: bool) -> None:
    """A new `bench_run` table identical to `bench_base`, with the key index loaders would create."""
    e = sa.create_engine(url)
    with e.begin() as conn:
        conn.exec_driver_sql("drop table if exists bench_run")
    if name == "sqlite":  # CREATE TABLE AS would drop SQLite's declared types
        FullReload(keys=["id"]).run(base, url, table="bench_run")
        if unique:  # FullReload's key index is not unique; the hand-written upsert needs one
            with e.begin() as conn:
                conn.exec_driver_sql("create unique index ux_bench_run on bench_run (id)")
        e.dispose()
        return
    with e.begin() as conn:
        conn.exec_driver_sql("create table bench_run as select * from bench_base")
        if name != "duckdb":
            conn.exec_driver_sql(f"create {'unique ' if unique else ''}index ix_bench_run on bench_run (id)")
    e.dispose()


# ---------------------------------------------------------------------- the hand-written side
TYPES = {
    "postgres": {"int64": "bigint", "string": "text", "double": "double precision", "timestamp[us]": "timestamp"},
    "mysql": {"int64": "bigint", "string": "varchar(255)", "double": "double", "timestamp[us]": "datetime(6)"},
    "sqlite": {"int64": "integer", "string": "text", "double": "real", "timestamp[us]": "timestamp"},
}


def stage(conn: sa.Connection, name: str, batch: pa.Table) -> None:
    """The batch into temp table `s`, the way that engine's users load one."""
    raw: Any = conn.connection.driver_connection
    if name == "duckdb":
        raw.register("s_arrow", batch)
        conn.exec_driver_sql("create temp table s as select * from s_arrow")
        return
    types = TYPES[name]
    cols = ", ".join(f"{f.name} {types[str(f.type)]}" for f in batch.schema)
    conn.exec_driver_sql(f"create temporary table s ({cols}{', index (id)' if name == 'mysql' else ''})")
    if name == "postgres":
        buf = io.BytesIO()
        pcsv.write_csv(batch, buf, pcsv.WriteOptions(include_header=False))
        with raw.cursor() as cur, cur.copy("copy s from stdin with (format csv)") as copy:
            copy.write(buf.getvalue())
        conn.exec_driver_sql("analyze s")
        return
    if name == "sqlite":
        conn.exec_driver_sql("create index ix_s on s (id)")
    marker = "%s" if name == "mysql" else "?"
    rows = [tuple(r.values()) for r in batch.to_pylist()]
    cur = raw.cursor()
    for i in range(0, len(rows), 10_000):
        cur.executemany(f"insert into s values ({', '.join([marker] * batch.num_columns)})", rows[i : i + 10_000])


def changed(t: str, s: str, cols: list[str], name: str) -> str:
    if name == "mysql":
        return " or ".join(f"not ({t}.{c} <=> {s}.{c})" for c in cols)
    return " or ".join(f"{t}.{c} is distinct from {s}.{c}" for c in cols)


def hand_sql(strategy: str, name: str, conn: sa.Connection) -> None:
    """The strategy's SQL over the staged `s`, in the caller's transaction."""
    x = conn.exec_driver_sql
    values = COLS[1:]
    if strategy == "full":
        x("delete from bench_run")
        x("insert into bench_run select * from s")
    elif strategy == "append":
        newest = x("select max(updated_at) from bench_run").scalar()
        param = "%s" if name == "mysql" else ("%(n)s" if name == "postgres" else "?")
        x(
            f"insert into bench_run select * from s where updated_at > {param}",
            {"n": newest} if name == "postgres" else (newest,),
        )
    elif strategy == "merge":
        if name in ("duckdb", "postgres"):
            x(
                f"merge into bench_run t using s on t.id = s.id when matched then update set "
                f"{', '.join(f'{c} = s.{c}' for c in values)} "
                "when not matched then insert values (s.id, s.name, s.city, s.amount, s.updated_at)"
            )
            return
        if name == "mysql":
            x(f"update bench_run t join s on t.id = s.id set {', '.join(f't.{c} = s.{c}' for c in values)}")
        else:
            x(f"update bench_run set {', '.join(f'{c} = s.{c}' for c in values)} from s where bench_run.id = s.id")
        x("insert into bench_run select * from s where not exists (select 1 from bench_run t where t.id = s.id)")
    elif strategy == "scd2":
        tracked = ["name", "city", "amount"]
        if name == "mysql":
            x(
                "update bench_run t join s on t.id = s.id set t.valid_to = s.updated_at, t.is_current = false "
                f"where t.is_current and ({changed('t', 's', tracked, name)})"
            )
        else:
            x(
                "update bench_run set valid_to = s.updated_at, is_current = false from s where bench_run.id = s.id "
                f"and bench_run.is_current and ({changed('bench_run', 's', tracked, name)})"
            )
        # the columns scd2 does not track are overwritten on the current version (type 1), as loaders does
        if name == "mysql":
            x(
                "update bench_run t join s on t.id = s.id set t.updated_at = s.updated_at "
                f"where t.is_current and ({changed('t', 's', ['updated_at'], name)})"
            )
        else:
            x(
                "update bench_run set updated_at = s.updated_at from s where bench_run.id = s.id "
                f"and bench_run.is_current and ({changed('bench_run', 's', ['updated_at'], name)})"
            )
        x(
            "insert into bench_run select s.id, s.name, s.city, s.amount, s.updated_at, s.updated_at, null, true "
            "from s where not exists (select 1 from bench_run t where t.id = s.id and t.is_current)"
        )
    elif strategy == "cdc":
        x(
            "create temporary table d as select op, id, name, city, amount, lsn from (select s.*, row_number() "
            "over (partition by id order by lsn desc) as rn from s) ranked where rn = 1"
        )
        if name == "mysql":  # MariaDB plans IN (subquery) on an unindexed temp table row by row
            x("delete t from bench_run t join d on t.id = d.id where d.op = 'd'")
        else:
            x("delete from bench_run where id in (select id from d where op = 'd')")
        cols = ", ".join(c for c in ["id", "name", "city", "amount", "lsn"])
        sets = ["name", "city", "amount", "lsn"]
        if name == "duckdb":
            x(
                f"merge into bench_run t using (select * from d where op <> 'd') s on t.id = s.id when matched then "
                f"update set {', '.join(f'{c} = s.{c}' for c in sets)} when not matched then insert values "
                "(s.id, s.name, s.city, s.amount, s.lsn)"
            )
        elif name == "mysql":
            x(
                f"insert into bench_run ({cols}) select {cols} from d where op <> 'd' on duplicate key update "
                f"{', '.join(f'{c} = values({c})' for c in sets)}"
            )
        else:
            x(
                f"insert into bench_run ({cols}) select {cols} from d where op <> 'd' and true on conflict (id) do update set "
                f"{', '.join(f'{c} = excluded.{c}' for c in sets)}"
            )
    else:
        raise SystemExit(f"unknown strategy {strategy}")


def hand_written(url: str, name: str, strategy: str, batch: pa.Table) -> None:
    e = sa.create_engine(url)
    with e.begin() as conn:
        stage(conn, name, batch)
        hand_sql(strategy, name, conn)
    e.dispose()


# ---------------------------------------------------------------------- loaders' side
def loader(strategy: str) -> Callable[[pa.Table, str], object]:
    jobs: dict[str, Callable[[pa.Table, str], object]] = {
        "full": lambda b, url: FullReload().run(b, url, table="bench_run", mart=f"bench_{strategy}"),
        "append": lambda b, url: Append(cursor="updated_at").run(b, url, table="bench_run", mart=f"bench_{strategy}"),
        "merge": lambda b, url: Merge(keys=["id"]).run(b, url, table="bench_run", mart=f"bench_{strategy}"),
        "scd2": lambda b, url: SCD2(keys=["id"], track=["name", "city", "amount"], effective_from="updated_at").run(
            b, url, table="bench_run", mart=f"bench_{strategy}"
        ),
        "cdc": lambda b, url: CDC(keys=["id"], sequence="lsn", op_column="op").run(
            b, url, table="bench_run", mart=f"bench_{strategy}"
        ),
    }
    return jobs[strategy]


def fingerprint(url: str, strategy: str) -> tuple[Any, ...]:
    """Both sides must leave the same rows: their count, keys and amounts (current rows for scd2, and
    every version's count), and the timestamps or sequences that a strategy rewrites."""
    current = " where is_current" if strategy == "scd2" else ""
    newest = "lsn" if strategy == "cdc" else "updated_at"
    e = sa.create_engine(url)
    with e.connect() as conn:
        row = conn.exec_driver_sql(
            f"select count(*), sum(id), sum(amount), (select count(*) from bench_run), "
            f"sum(case when {newest} = (select max({newest}) from bench_run) then 1 else 0 end) from bench_run{current}"
        ).one()
    e.dispose()
    return tuple(round(float(v or 0), 1) for v in row)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--engine", action="append")
    p.add_argument("--only", action="append", help="strategies (default: all five)")
    args = p.parse_args()
    plain, batch = base_table(args.rows), batch_table(args.rows, args.batch)
    bases = {"scd2": history(plain), "cdc": cdc_base(plain)}
    batches = {"scd2": batch, "cdc": feed(batch, args.rows)}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.batch:,} rows into {args.rows:,}, median of {args.repeat}, interleaved")
        print(f"{'engine':<9} {'strategy':<8} {'hand SQL':>9} {'loaders':>9} {'ratio':>6}")
        for name, url in engines(Path(tmp)).items():
            if args.engine and name not in args.engine:
                continue
            for strategy in args.only or STRATEGIES:
                base, rows = bases.get(strategy, plain), batches.get(strategy, batch)
                e = sa.create_engine(url)
                with e.begin() as conn:  # each strategy's base has its own columns
                    conn.exec_driver_sql("drop table if exists bench_base")
                e.dispose()
                FullReload(keys=["id"]).run(base, url, table="bench_base")
                hand, ours = [], []
                for _ in range(args.repeat):
                    fresh_copy(url, name, base, unique=strategy == "cdc")
                    start = time.perf_counter()
                    hand_written(url, name, strategy, rows)
                    hand.append(time.perf_counter() - start)
                    prints = [fingerprint(url, strategy)]
                    fresh_copy(url, name, base, unique=strategy == "cdc")
                    seed_watermark(url, f"bench_{strategy}", "bench_run", keep=strategy == "append")
                    start = time.perf_counter()
                    loader(strategy)(rows, url)
                    ours.append(time.perf_counter() - start)
                    prints.append(fingerprint(url, strategy))
                h, o = statistics.median(hand), statistics.median(ours)
                same = "" if prints[0] == prints[1] else f"  DIFFERENT ROWS: hand {prints[0]}, loaders {prints[1]}"
                print(f"{name:<9} {strategy:<8} {h:>8.2f}s {o:>8.2f}s {o / h:>6.2f}{same}", flush=True)
            e = sa.create_engine(url)
            with e.begin() as conn:
                for t in ("bench_run", "bench_base"):
                    conn.exec_driver_sql(f"drop table if exists {t}")
            e.dispose()


if __name__ == "__main__":
    main()
