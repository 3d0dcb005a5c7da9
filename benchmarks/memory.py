"""Peak memory of a big batch: a 10M-row Parquet source loaded by every strategy, as a `loaders run`
process, peak RSS by GNU time.

    python benchmarks/memory.py [--rows 10000000] [--memory-limit 512MB] [--pg URL]

The knob: on DuckDB, which reads the Parquet file itself, DuckDB's own `memory_limit`, set on the
target URL (`duckdb:///marts.duckdb?memory_limit=512MB`; DuckDB spills the rest to its temp folder).
On the other engines the file streams through Arrow one row group at a time (about 128k rows), so
memory follows the row group, not the file. Each strategy loads the whole file into an empty table
(the heaviest case: every row is staged and inserted); the target is <= 1 GiB of peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb
import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from process import measured  # noqa: E402

GIB = 1024


def build(path: Path, rows: int) -> float:
    con = duckdb.connect()
    con.execute(f"""copy (
        select range as id, 'customer name ' || range as name, ['Oslo','Lyon','Ghent','Turin'][range % 4 + 1] as city,
               (range % 100000) / 10.0 as amount, timestamp '2026-01-01' + to_seconds(range::bigint) as updated_at,
               case when range % 10 = 0 then 'd' else 'u' end as op, range as lsn,
               repeat(chr((97 + range % 26)::integer), 60) || ' remark ' || range as note
        from range({rows})) to '{path}' (format parquet)""")
    arrow_bytes = con.execute(f"select sum(total_uncompressed_size) from parquet_metadata('{path}')").fetchone()[0]
    con.close()
    return arrow_bytes / 2**20


def marts(source: str) -> dict[str, dict[str, object]]:
    return {
        "full": {"strategy": "full", "table": "t_full", "source": {"path": source}},
        "append": {"strategy": "append", "table": "t_append", "cursor": "updated_at", "source": {"path": source}},
        "merge": {"strategy": "merge", "table": "t_merge", "keys": ["id"], "source": {"path": source}},
        "scd2": {"strategy": "scd2", "table": "t_scd2", "keys": ["id"], "track": ["name", "city", "amount", "note"],
                 "source": {"path": source}},
        "cdc": {"strategy": "cdc", "table": "t_cdc", "keys": ["id"], "sequence": "lsn", "op_column": "op",
                "source": {"path": source}},
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--memory-limit", default="512MB", help="DuckDB's memory_limit on the target URL")
    p.add_argument("--pg", help="also load into this PostgreSQL server (a database is made and dropped)")
    p.add_argument("--only", action="append")
    a = p.parse_args()
    loaders = str(Path(sys.executable).parent / "loaders")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "big.parquet"
        mb = build(source, a.rows)
        size = source.stat().st_size / 2**20
        print(f"{a.rows:,}-row Parquet source: {size:.0f} MB on disk, {mb:.0f} MB uncompressed; peak RSS target 1 GiB")
        print(f"{'engine':28} {'strategy':8} {'seconds':>8} {'peak RSS':>9}  {'<= 1 GiB':>8}")
        targets = [
            (f"duckdb memory_limit={a.memory_limit}", f"duckdb:///{work}/m.duckdb?memory_limit={a.memory_limit}")
        ]
        admin = None
        if a.pg:
            admin = sa.create_engine(a.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql("drop database if exists loaders_memory")
                c.exec_driver_sql("create database loaders_memory")
            targets.append(
                ("postgresql (streamed)", sa.make_url(a.pg).set(database="loaders_memory").render_as_string(False))
            )
        try:
            for label, url in targets:
                for strategy, mart in marts(str(source)).items():
                    if a.only and strategy not in a.only:
                        continue
                    spec = work / "marts.yaml"
                    spec.write_text(yaml.safe_dump({"target": url, "marts": {f"big_{strategy}": mart}}))
                    seconds, rss = measured([loaders, "run", str(spec)], work)
                    print(
                        f"{label:28} {strategy:8} {seconds:7.1f}s {rss:7.0f}MB  {'yes' if rss <= GIB else 'NO':>8}",
                        flush=True,
                    )
        finally:
            if admin is not None:
                with admin.connect() as c:
                    c.exec_driver_sql("drop database if exists loaders_memory with (force)")
                admin.dispose()


if __name__ == "__main__":
    main()
