"""A batch larger than the memory budget streams through the load instead of being held whole.

The budget on the loader's side is Arrow memory: a Parquet source is read one row group at a time
and handed to the stage batch by batch (COPY on PostgreSQL, inserts elsewhere); DuckDB keeps a batch
in Arrow only up to ``DuckDBTarget.stage_in_memory_bytes`` and streams a larger one into a temp table.
The load runs in a child process, so the pool's high-water mark is this load's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

ROWS = 600_000
CSV_ROWS = 2 * ROWS

CHILD = """
import json, sys
import pyarrow as pa
from loaders import Merge
from loaders.targets.duckdb import DuckDBTarget

DuckDBTarget.stage_in_memory_bytes = 4 * 2**20  # DuckDB's in-memory stage budget, made small for the test
r = Merge(keys=["id"]).run(sys.argv[1], sys.argv[2], table="big")
print(json.dumps({"inserted": r.inserted, "arrow_peak": pa.default_memory_pool().max_memory()}))
"""


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """About 70 MB of Arrow in 20k-row row groups; its size in memory is measured, not guessed."""
    path = tmp_path_factory.mktemp("big") / "big.parquet"
    duckdb.sql(
        f"copy (select i as id, repeat('x', 100) || i::varchar as payload from range({ROWS}) t(i)) "
        f"to '{path}' (format parquet, row_group_size 20000)"
    )
    meta = pq.ParquetFile(path)
    in_memory = sum(meta.read_row_group(i).nbytes for i in range(meta.num_row_groups))
    return path, in_memory


def test_a_big_parquet_batch_streams(engine: Any, big_parquet: tuple[Path, int]) -> None:
    path, in_memory = big_parquet
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), engine.url], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["inserted"] == ROWS
    assert engine.scalar("select count(*) from big") == ROWS
    # the whole batch is never in memory: at most a few row groups and batches of it
    assert got["arrow_peak"] < in_memory / 3, f"peak {got['arrow_peak'] >> 20} MB of a {in_memory >> 20} MB batch"


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Twice the rows as CSV, split in two files (a folder source reads them one after the other): a
    parsed block costs more memory than a Parquet row group, so the batch must be larger to show it."""
    folder = tmp_path_factory.mktemp("big_csv")
    for part, where in enumerate(("i % 2 = 0", "i % 2 = 1")):
        duckdb.sql(
            f"copy (select i as id, repeat('x', 100) || i::varchar as payload from range({CSV_ROWS}) t(i) "
            f"where {where}) "
            f"to '{folder / f'part{part}.csv'}' (header true)"
        )
    in_memory = duckdb.sql(f"select * from read_csv('{folder}/*.csv')").to_arrow_table().nbytes
    return folder, in_memory


@pytest.mark.parametrize("engine", ["duckdb", "postgres"], indirect=True)
def test_a_big_csv_batch_streams(engine: Any, big_csv: tuple[Path, int]) -> None:
    """CSV is parsed block by block (Arrow's dataset scanner parsed a whole file ahead of its reader)."""
    folder, in_memory = big_csv
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), engine.url], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["inserted"] == CSV_ROWS and engine.scalar("select count(*) from big") == CSV_ROWS
    assert got["arrow_peak"] < in_memory / 3, f"peak {got['arrow_peak'] >> 20} MB of a {in_memory >> 20} MB batch"
