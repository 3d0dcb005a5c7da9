"""The tool users would pick instead: dlt on the same jobs, whole process against whole process.

    python benchmarks/dlt_compare.py [--rows 1000000] [--batch 200000] [--repeat 3]

`process.py`'s workload (a 1M-row DuckDB table, a 200k batch in Parquet: half updates, half new keys;
cdc a feed with 10% deletes). Three processes per strategy, interleaved, each from a fresh copy of its
database (not timed): the hand-written DuckDB SQL, `loaders run marts.yaml`, and `dlt_job.py` (dlt's
`replace`, incremental `append`, `merge`, `scd2` and `merge` with a hard-delete flag; dlt loads the
same 1M rows into its own tables first, untimed). Medians of wall time and peak RSS.

The jobs are not identical where the tools differ: dlt's scd2 takes the load time as valid_from
(loaders takes `effective_from: updated_at`), and dlt adds its own columns (`_dlt_id`, `_dlt_load_id`).
Needs dlt (`pip install 'dlt[duckdb,parquet]'`, in the `bench` extra).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from bench import HAND, build  # noqa: E402
from process import as_installed, measured, one  # noqa: E402

JOB = Path(__file__).parent / "dlt_job.py"
#: the base table of each strategy's job, as bench.build made it
BASE = {"full": "plain", "append": "plain", "merge": "plain", "scd2": "plain", "cdc": "cdc"}


def dlt_base(work: Path, strategy: str) -> None:
    """dlt's own copy of the 1M-row table (and its pipeline state), loaded once, untimed."""
    parquet = work / f"base_{strategy}.parquet"
    con = duckdb.connect(str(work / "base.duckdb"), read_only=True)
    con.execute(f"copy (select * from {BASE[strategy]}) to '{parquet}' (format parquet)")
    con.close()
    folder = work / f"dlt_{strategy}"
    folder.mkdir()
    seconds, _ = measured(
        [sys.executable, str(JOB), strategy, str(folder / "base.duckdb"), str(parquet), str(folder / "pipelines")], work
    )
    print(f"  (dlt base load of {strategy}: {seconds:.1f} s, untimed)", file=sys.stderr)


def dlt_run(work: Path, strategy: str) -> tuple[float, float]:
    folder, run = work / f"dlt_{strategy}", work / "dlt_run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    shutil.copy(folder / "base.duckdb", run / "run.duckdb")
    shutil.copytree(folder / "pipelines", run / "pipelines")
    source = work / ("feed.parquet" if strategy == "cdc" else "batch.parquet")
    try:
        timing = measured(
            [sys.executable, str(JOB), strategy, str(run / "run.duckdb"), str(source), str(run / "pipelines")], work
        )
        con = duckdb.connect(str(run / "run.duckdb"), read_only=True)  # what dlt left, to compare by eye
        rows = con.execute(f"select count(*) from bench.t_{strategy}").fetchone()
        con.close()
        print(f"  (dlt {strategy}: {rows[0] if rows else '?':,} rows in bench.t_{strategy})", file=sys.stderr)
        return timing
    finally:
        shutil.rmtree(run, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", action="append")
    a = p.parse_args()
    try:
        import dlt  # noqa: F401
    except ImportError:
        raise SystemExit("dlt is not installed: pip install 'dlt[duckdb,parquet]' (or the bench extra)") from None
    strategies = a.only or list(HAND)
    as_installed()
    print(f"whole process vs dlt, DuckDB, {a.batch:,} rows into {a.rows:,}, median of {a.repeat} (interleaved)")
    print(
        f"{'strategy':9} {'hand':>7} {'loaders':>8} {'dlt':>7} {'loaders/hand':>13} {'dlt/hand':>9}"
        f" {'loaders RSS':>12} {'dlt RSS':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        build(work, a.rows, a.batch)
        for strategy in strategies:
            dlt_base(work, strategy)
            runs: dict[str, list[tuple[float, float]]] = {"hand": [], "loaders": [], "dlt": []}
            for _ in range(a.repeat):
                runs["hand"].append(one(strategy, work, "hand"))
                runs["loaders"].append(one(strategy, work, "loaders"))
                runs["dlt"].append(dlt_run(work, strategy))
            med = {
                who: (statistics.median(s for s, _ in r), statistics.median(m for _, m in r)) for who, r in runs.items()
            }
            (hand, _), (ours, ours_mb), (theirs, theirs_mb) = med["hand"], med["loaders"], med["dlt"]
            print(
                f"{strategy:9} {hand:6.2f}s {ours:7.2f}s {theirs:6.2f}s {ours / hand:13.2f} {theirs / hand:9.2f}"
                f" {ours_mb:10.0f}MB {theirs_mb:6.0f}MB"
            )


if __name__ == "__main__":
    main()
