"""`loaders run --jobs N` against one at a time: 20 merge marts of 100k rows each on one PostgreSQL
target, each run into a fresh schema, median of --repeat runs per setting, interleaved.

    python benchmarks/jobs.py postgresql+psycopg://postgres@127.0.0.1:5432/test --jobs 1 4 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
import yaml

from loaders import load_project, run_project


def one_run(url: str, source: Path, marts: int, jobs: int) -> float:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'create schema "{schema}"')
    target = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    spec = {
        "target": target.render_as_string(hide_password=False),
        "marts": {
            f"m{i}": {"strategy": "merge", "keys": ["id"], "source": {"path": str(source)}} for i in range(marts)
        },
    }
    path = source.parent / f"{schema}.yaml"
    path.write_text(yaml.safe_dump(spec))
    try:
        start = time.perf_counter()
        results = run_project(load_project(path), jobs=jobs)
        seconds = time.perf_counter() - start
        assert all(getattr(r, "status", None) == "success" for r in results), results
        return seconds
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'drop schema "{schema}" cascade')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--marts", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source = Path(tempfile.mkdtemp()) / "rows.parquet"
    n = args.rows
    pq.write_table(pa.table({"id": pa.array(range(n), pa.int64()), "v": [f"value {i}" for i in range(n)]}), source)
    times: dict[int, list[float]] = {j: [] for j in args.jobs}
    for _ in range(args.repeat):
        for j in args.jobs:
            times[j].append(one_run(args.url, source, args.marts, j))
    base = statistics.median(times[args.jobs[0]])
    for j, values in times.items():
        median = statistics.median(values)
        print(f"--jobs {j}: {median:6.2f} s (median of {len(values)})  speed-up {base / median:4.2f}x")


if __name__ == "__main__":
    main()
