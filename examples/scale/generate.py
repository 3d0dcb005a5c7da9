"""Make the scale scenario: many marts files (one Airflow DAG each) and one day of their sources.

    python generate.py --out work --marts 200 --day 1 --pg postgresql+psycopg://postgres@127.0.0.1:5432/wh
    python generate.py --out work --marts 200 --day 2 --pg ...   # the next delivery

Marts come in groups of ``--group-size`` (one marts file, one DAG each). Every strategy appears in
every group, in a rotating order; marts form ``depends_on`` chains of four. Targets, by group: two
groups out of four load into the PostgreSQL database ``--pg``, the other two share one DuckDB file
(so two DAGs wait for one single-writer file). The first mart of each pair of groups is a mistake a
real project makes: two marts, in two DAGs, that load the same table (``shared_<n>``) at once.

Sources are deterministic per mart and day (small Parquet files, ``--rows`` keys each): snapshots are
overwritten each day, append and cdc folders get one file per day, as real extracts do.
"""

from __future__ import annotations

import argparse
import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

KINDS = ["full", "append", "merge", "merge_delete", "scd2", "cdc", "snapshot", "window", "scd1"]
CITIES = ["Berlin", "Lisbon", "Oslo", "Turin", "Ghent", "Lyon"]
START = datetime(2026, 1, 1)


@dataclass(frozen=True)
class Mart:
    group: int
    index: int
    kind: str
    name: str
    table: str
    depends_on: str | None

    @property
    def collides(self) -> bool:
        return self.table.startswith("shared_")


def groups(marts: int, size: int) -> list[list[Mart]]:
    """The marts, by group (marts file); the same arguments give the same marts."""
    out: list[list[Mart]] = []
    for g in range((marts + size - 1) // size):
        n = min(size, marts - g * size)
        group = []
        for j in range(n):
            # the first mart of each DAG starts as soon as the DAG is triggered: the two of a pair of
            # DAGs that load one table by mistake run at the same moment
            shared = j == 0 and n > 1
            kind = "full" if shared else KINDS[(g + j) % len(KINDS)]
            name = f"g{g:02d}_m{j:02d}_{kind}"
            table = f"shared_{g // 2}" if shared else name
            depends = None if j % 4 == 0 else group[j - 1].name
            group.append(Mart(g, j, kind, name, table, depends))
        out.append(group)
    return out


def on_postgres(group: int) -> bool:
    return group % 4 < 2


def duckdb_file(out: Path, group: int) -> Path:
    return out / f"wh_{group // 4}.duckdb"


def target_of(out: Path, group: int, pg: str) -> str:
    return pg if on_postgres(group) else f"duckdb:///{duckdb_file(out, group)}"


def spec_of(m: Mart, data: Path) -> dict[str, object]:
    src = str(data / f"g{m.group:02d}" / m.name)
    spec: dict[str, object] = {"table": m.table}
    if m.kind in ("append", "cdc"):
        spec["source"] = {"path": f"{src}/*.parquet"}
    else:
        spec["source"] = {"path": f"{src}.parquet"}
    spec.update(
        {
            "full": {"strategy": "full", "keys": ["id"]},
            "append": {"strategy": "append", "cursor": "ts", "lookback": "1 day", "keys": ["id"]},
            "merge": {"strategy": "merge", "keys": ["id"]},
            "merge_delete": {"strategy": "merge", "keys": ["id"], "delete_missing": True},
            "scd2": {"strategy": "scd2", "keys": ["id"], "track": ["city", "amount"], "effective_from": "updated_at",
                     "deletes": "close"},
            "cdc": {"strategy": "cdc", "keys": ["id"], "sequence": "seq", "op_column": "op"},
            "snapshot": {"strategy": "snapshot"},
            "window": {"strategy": "overwrite_window", "partition_by": "day"},
            "scd1": {"strategy": "scd1", "keys": ["id"]},
        }[m.kind]
    )  # fmt: skip
    if m.depends_on:
        spec["depends_on"] = [m.depends_on]
    return spec


def write_marts(out: Path, marts: int, size: int, pg: str) -> list[Path]:
    """One marts file per group in ``out/marts`` and the DAG file in ``out/dags``."""
    import yaml

    (out / "marts").mkdir(parents=True, exist_ok=True)
    (out / "dags").mkdir(parents=True, exist_ok=True)
    files = []
    for group in groups(marts, size):
        g = group[0].group
        doc = {
            "target": target_of(out, g, pg),
            "airflow": {"dag_id": f"scale_g{g:02d}", "retries": 4, "retry_delay": "5 seconds", "tags": ["scale"]},
            "marts": {m.name: spec_of(m, out / "data") for m in group},
        }
        path = out / "marts" / f"scale_g{g:02d}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        files.append(path)
    (out / "dags" / "scale.py").write_text(
        '"""Every marts file of the scale scenario, one DAG each."""\n'
        "from pathlib import Path\n\n"
        "from loaders.airflow import dags_from_folder\n\n"
        f"globals().update(dags_from_folder(Path({str(out / 'marts')!r})))\n"
    )
    return files


# --------------------------------------------------------------------------- sources
def rng_for(name: str, day: int) -> random.Random:
    return random.Random(zlib.crc32(f"{name}/{day}".encode()))


def keys_on(day: int, rows: int) -> list[int]:
    """Keys in the snapshot of ``day``: every 20th key leaves on day 2 and later, a tenth more join."""
    alive = [k for k in range(1, rows + 1) if day == 1 or k % 20]
    return alive + list(range(rows + 1, rows + 1 + (rows // 10) * (day - 1)))


def snapshot_rows(m: Mart, day: int, rows: int) -> pa.Table:
    if m.collides:  # larger, so the two loads of one table last long enough to meet
        rows *= 40
    out = []
    for k in keys_on(day, rows):
        base = rng_for(f"{m.name}/{k}", 0)
        city, amount, updated = base.choice(CITIES), round(base.uniform(1, 500), 2), START
        for d in range(2, day + 1):  # each later day a tenth of the keys change
            r = rng_for(f"{m.name}/{k}", d)
            if r.random() < 0.1:
                city, amount, updated = r.choice(CITIES), round(r.uniform(1, 500), 2), START + timedelta(days=d - 1)
        out.append({"id": k, "name": f"customer {k}", "city": city, "amount": amount, "updated_at": updated})
    if m.collides:  # the two marts on one table deliver different data: the table shows whose load won
        for row in out:
            row["name"] = f"{row['name']} from group {m.group}"
    return pa.Table.from_pylist(out)


def append_rows(m: Mart, day: int, rows: int) -> pa.Table:
    r = rng_for(m.name, day)
    base = (day - 1) * rows
    out = [
        {"id": base + i, "ts": START + timedelta(days=day - 1, seconds=i), "amount": round(r.uniform(1, 99), 2)}
        for i in range(1, rows + 1)
    ]
    if day > 1:  # late rows: stamped the day before, inside the look-back
        out += [
            {
                "id": 10_000_000 + day * rows + i,
                "ts": START + timedelta(days=day - 2, hours=23, seconds=i),
                "amount": 1.0,
            }
            for i in range(rows // 20)
        ]
    return pa.Table.from_pylist(out)


def cdc_rows(m: Mart, day: int, rows: int) -> pa.Table:
    r = rng_for(m.name, day)
    seq = (day - 1) * rows * 10
    out = []

    def event(op: str, k: int) -> None:
        nonlocal seq
        seq += 1
        out.append({"id": k, "op": op, "seq": seq, "city": r.choice(CITIES), "amount": round(r.uniform(1, 500), 2)})

    if day == 1:
        for k in range(1, rows + 1):
            event("c", k)
    else:
        for k in r.sample(range(1, rows + 1), rows // 5):  # several events for some keys, ~10% deletes
            event("u", k)
            if r.random() < 0.5:
                event("u", k)
            if r.random() < 0.5:
                event("d", k)
        for k in range(rows * day + 1, rows * day + rows // 10 + 1):
            event("c", k)
    return pa.Table.from_pylist(out)


def window_rows(m: Mart, day: int, rows: int) -> pa.Table:
    """Each delivery restates yesterday's window and brings today's."""
    r = rng_for(m.name, day)
    days = [date(2026, 1, day), date(2026, 1, day + 1)]
    return pa.Table.from_pylist(
        [{"day": d, "id": i, "amount": round(r.uniform(1, 99), 2)} for d in days for i in range(1, rows // 2 + 1)]
    )


def write_day(out: Path, marts: int, size: int, day: int, rows: int) -> None:
    for group in groups(marts, size):
        folder = out / "data" / f"g{group[0].group:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for m in group:
            if m.kind in ("append", "cdc"):
                (folder / m.name).mkdir(exist_ok=True)
                table = append_rows(m, day, rows) if m.kind == "append" else cdc_rows(m, day, rows)
                path = folder / m.name / f"day{day}.parquet"
            else:
                table = window_rows(m, day, rows) if m.kind == "window" else snapshot_rows(m, day, rows)
                path = folder / f"{m.name}.parquet"
            tmp = path.with_suffix(".tmp")  # a reader never sees half a file
            pq.write_table(table, tmp)
            tmp.replace(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--marts", type=int, default=200)
    p.add_argument("--group-size", type=int, default=20)
    p.add_argument("--rows", type=int, default=500)
    p.add_argument("--day", type=int, default=1)
    p.add_argument("--pg", required=True, help="SQLAlchemy URL of the PostgreSQL database the server marts load into")
    a = p.parse_args()
    write_marts(a.out.resolve(), a.marts, a.group_size, a.pg)
    write_day(a.out.resolve(), a.marts, a.group_size, a.day, a.rows)


if __name__ == "__main__":
    main()
