"""One dlt load into DuckDB, as a data engineer would write it with dlt's own strategies (run by
`dlt_compare.py` as its own process, so its imports and start-up count as loaders' do).

    python benchmarks/dlt_job.py STRATEGY DUCKDB_FILE PARQUET PIPELINES_DIR

full: `replace`; append: `append` with `dlt.sources.incremental("updated_at")`; merge: `merge`
(delete-insert by primary key); scd2: `merge` with the `scd2` strategy, `merge_key` id (absent keys
are not retired) and a row hash over the tracked columns; cdc: `merge` with a `hard_delete` flag from
the op column and `dedup_sort` on the LSN.
"""

from __future__ import annotations

import sys

import dlt
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dlt.sources.helpers.transform import add_row_hash_to_table


def resource(strategy: str, rows: object) -> object:
    if strategy == "full":
        return dlt.resource(rows, name="t_full", write_disposition="replace")
    if strategy == "append":

        @dlt.resource(name="t_append", write_disposition="append")
        def appended(updated_at: object = dlt.sources.incremental("updated_at")) -> object:  # noqa: B008
            yield rows

        return appended()
    if strategy == "merge":
        return dlt.resource(rows, name="t_merge", write_disposition="merge", primary_key="id")
    if strategy == "scd2":
        return dlt.resource(
            rows,
            name="t_scd2",
            merge_key="id",
            write_disposition={"disposition": "merge", "strategy": "scd2", "row_version_column_name": "row_hash"},
        ).add_map(add_row_hash_to_table("row_hash"))
    if strategy == "cdc":
        return dlt.resource(
            rows,
            name="t_cdc",
            write_disposition="merge",
            primary_key="id",
            columns={"deleted": {"hard_delete": True}, "lsn": {"dedup_sort": "desc"}},
        )
    raise SystemExit(f"unknown strategy {strategy}")


def main() -> None:
    strategy, db, parquet, pipelines_dir = sys.argv[1:5]
    rows = pq.read_table(parquet)
    if strategy == "cdc" and "op" in rows.column_names:
        rows = rows.append_column("deleted", pc.equal(rows["op"], "d")).drop_columns(["op"])
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{strategy}",
        destination=dlt.destinations.duckdb(db),
        dataset_name="bench",
        pipelines_dir=pipelines_dir,
    )
    pipeline.run(resource(strategy, rows))


if __name__ == "__main__":
    main()
