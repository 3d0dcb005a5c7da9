"""Does a keyed load cost the batch or batch x table? A delete_missing merge of N rows into N rows,
at two sizes, per engine URL given on the command line (default: a temporary SQLite file).

    python benchmarks/keyed_growth.py sqlite:///g.db mysql+pymysql://root@127.0.0.1:3306/test

Linear growth shows as a ratio near the size ratio (5x here); a quadratic probe as ~25x.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid

import pyarrow as pa

from loaders import Merge


def rows(n: int, label: str) -> pa.Table:
    return pa.table({"id": pa.array(range(n), pa.int64()), "v": pa.array([f"{label}{i}" for i in range(n)])})


def second_load_seconds(url: str, n: int) -> float:
    table = f"growth_{uuid.uuid4().hex[:6]}"
    Merge(keys=["id"], delete_missing=True).run(rows(n, "a"), url, table=table)
    start = time.perf_counter()
    Merge(keys=["id"], delete_missing=True).run(rows(n, "b"), url, table=table)
    return time.perf_counter() - start


def main() -> None:
    urls = sys.argv[1:] or [f"sqlite:///{tempfile.mkdtemp()}/growth.db"]
    for url in urls:
        small, large = second_load_seconds(url, 20_000), second_load_seconds(url, 100_000)
        print(
            f"{url.split(':')[0]:>14}  20k {small:6.2f} s   100k {large:6.2f} s   growth {large / small:4.1f}x (rows 5x)"
        )


if __name__ == "__main__":
    main()
