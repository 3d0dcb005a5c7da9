"""Each strategy against the same job written by hand in DuckDB SQL, same engine, same run.

    python benchmarks/bench.py [--rows 1000000] [--batch 200000] [--repeat 3] [--only merge]

A 1M-row table, a 200k-row Parquet batch (half updates of existing keys, a quarter of them changed,
half new keys). Every timing starts from a fresh copy of the same database file; the figure reported
is the median, and the ratio is loaders / hand-written (the target is <= 1.25).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from loaders import CDC, SCD2, Append, FullReload, Merge

T0 = datetime(2026, 1, 1)


def build(work: Path, rows: int, batch: int) -> None:
    con = duckdb.connect(str(work / "base.duckdb"))
    base = f"""select range as id, 'name ' || range as name, ['Oslo','Lyon','Ghent','Turin'][range % 4 + 1] as city,
               (range % 1000) / 10.0 as amount, timestamp '{T0}' + to_seconds(range::bigint) as updated_at
               from range({rows})"""
    con.execute(f"create table plain as {base}")
    con.execute(
        f"create table hist as select *, updated_at as valid_from, null::timestamp as valid_to, "
        f"true as is_current from ({base})"
    )
    con.execute(f"create table cdc as select id, name, city, amount, id as lsn from ({base})")
    half = batch // 2
    new_ts = f"timestamp '{T0 + timedelta(days=60)}' + to_seconds(range::bigint)"
    con.execute(f"""copy (
        (select id, name, case when id % 4 = 0 then 'Bergen' else city end as city, amount,
               {new_ts.replace("range", "id")} as updated_at
        from plain where id % {max(rows // half, 1)} = 0 limit {half})
        union all
        (select {rows} + range, 'new ' || range, 'Oslo', 1.0, {new_ts} from range({batch - half}))
    ) to '{work / "batch.parquet"}' (format parquet)""")
    con.execute(f"""copy (
        select case when id % 10 = 0 then 'd' else 'u' end as op, id, name, city, amount, {rows} + row_number() over () as lsn
        from read_parquet('{work / "batch.parquet"}')
    ) to '{work / "feed.parquet"}' (format parquet)""")
    con.close()


HAND = {
    "full": "create or replace table plain as select * from read_parquet('{batch}')",
    "append": """insert into plain select * from read_parquet('{batch}')
                 where updated_at > (select max(updated_at) from plain)""",
    "merge": """merge into plain t using read_parquet('{batch}') s on t.id = s.id
                when matched then update set name = s.name, city = s.city, amount = s.amount, updated_at = s.updated_at
                when not matched then insert values (s.id, s.name, s.city, s.amount, s.updated_at)""",
    "scd2": """begin;
               create temp table s as select * from read_parquet('{batch}');
               update hist t set valid_to = s.updated_at, is_current = false from s
                 where t.id = s.id and t.is_current and (t.city is distinct from s.city or t.name is distinct from s.name
                   or t.amount is distinct from s.amount);
               update hist t set updated_at = s.updated_at from s
                 where t.id = s.id and t.is_current and t.updated_at is distinct from s.updated_at;
               insert into hist select s.*, s.updated_at, null, true from s
                 where not exists (select 1 from hist t where t.id = s.id and t.is_current);
               commit""",
    "cdc": """begin;
              create temp table s as select * from read_parquet('{feed}') qualify row_number() over (partition by id order by lsn desc) = 1;
              delete from cdc t using s where t.id = s.id and s.op = 'd';
              merge into cdc t using (select * from s where op <> 'd') s on t.id = s.id
                when matched then update set name = s.name, city = s.city, amount = s.amount, lsn = s.lsn
                when not matched then insert values (s.id, s.name, s.city, s.amount, s.lsn);
              commit""",
}


def loaders_job(strategy: str, work: Path) -> Callable[[str], object]:
    batch, feed = str(work / "batch.parquet"), str(work / "feed.parquet")
    jobs = {
        "full": lambda url: FullReload().run(batch, url, table="plain"),
        "append": lambda url: Append(cursor="updated_at").run(batch, url, table="plain"),
        "merge": lambda url: Merge(keys=["id"]).run(batch, url, table="plain"),
        "scd2": lambda url: SCD2(keys=["id"], track=["name", "city", "amount"], effective_from="updated_at").run(
            batch, url, table="hist"
        ),
        "cdc": lambda url: CDC(keys=["id"], sequence="lsn", op_column="op").run(feed, url, table="cdc"),
    }
    return jobs[strategy]


def timed(work: Path, run: Callable[[Path], object]) -> float:
    db = work / "run.duckdb"
    shutil.copy(work / "base.duckdb", db)
    if second_run[0]:  # state tables (and append's watermark) as every scheduled run after the first has them
        second_run[0](db)
    start = time.perf_counter()
    run(db)
    elapsed = time.perf_counter() - start
    db.unlink()
    return elapsed


second_run: list[Callable[[Path], None] | None] = [None]


def seed_watermark(url: str, mart: str = "plain", table: str = "plain", keep: bool = True) -> None:
    """Copied files and server databases keep earlier runs' state: the mart's watermark is cleared and,
    with ``keep``, set to the newest updated_at of the table, as a real second append run has it."""
    from loaders.state import State
    from loaders.targets import open_target

    target = open_target(url)
    with target.connect() as conn:
        state = State(target)
        state.ensure(conn)
        state.clear_watermark(conn, mart)
        if keep:
            newest = conn.exec_driver_sql(f"select max(updated_at) from {table}").scalar()
            if isinstance(newest, str):  # SQLite keeps text
                newest = datetime.fromisoformat(newest)
            state.write_watermark(conn, mart, table, "updated_at", newest, datetime.now())
        conn.commit()
    target.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", action="append")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(work, args.rows, args.batch)
        print(f"{'strategy':<8} {'hand SQL':>9} {'loaders':>9} {'ratio':>6}   ({args.batch:,} rows into {args.rows:,})")
        for strategy in args.only or list(HAND):
            second_run[0] = lambda db, keep=strategy == "append": seed_watermark(f"duckdb:///{db}", keep=keep)
            sql = HAND[strategy].format(batch=work / "batch.parquet", feed=work / "feed.parquet")

            def hand(db: Path, sql: str = sql) -> None:
                con = duckdb.connect(str(db))
                con.execute(sql)
                con.close()

            job = loaders_job(strategy, work)
            hand_t, ours_t = [], []
            for _ in range(args.repeat):  # interleaved, so drift hits both alike
                hand_t.append(timed(work, hand))
                ours_t.append(timed(work, lambda db, job=job: job(f"duckdb:///{db}")))
            h, o = statistics.median(hand_t), statistics.median(ours_t)
            print(f"{strategy:<8} {h:>8.3f}s {o:>8.3f}s {o / h:>6.2f}")


if __name__ == "__main__":
    main()
