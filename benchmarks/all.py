"""`make bench`: every benchmark script, one after another, into benchmarks/results/RESULTS.md and a chart.

    python benchmarks/all.py [--quick]

Runs, each as its own process (so one's memory never weighs on the next):
- `bench.py`: every strategy in-process on DuckDB against its hand-written SQL;
- `process.py`: every strategy as a whole `loaders run` process against a process running the
  hand-written SQL (wall time and peak RSS);
- `dlt_compare.py`: the same jobs with dlt, the tool users would pick instead (Sling installs from
  PyPI but cannot run here: it downloads the DuckDB CLI and its json extension at run time);
- `engines.py`: every strategy on DuckDB, SQLite, and PostgreSQL / MariaDB when LOADERS_TEST_POSTGRES_URL /
  LOADERS_TEST_MYSQL_URL are set (as `.ci/run` sets them);
- `memory.py`: a 10M-row Parquet source loaded by every strategy, peak RSS (<= 1 GiB);
- `scaling.py`: the same 200k batch into 1M and 10M rows (DuckDB; PostgreSQL when its URL is set);
- `query_in_target.py`: a query source inside the target against the same query through Arrow
  (DuckDB; PostgreSQL when its URL is set);
- `cdc_shapes.py`: the SQL that applies a cdc batch's upserts, statement by statement (DuckDB, SQLite;
  PostgreSQL when its URL is set): the measurement behind the shape loaders picks on each engine.
Each script's own output goes into RESULTS.md verbatim, with the command that reproduces it; the
chart (`ratios.png`) plots the loaders / hand-written ratios of the first two. `--quick` runs every
script on a tenth of the rows, to check the harness rather than to measure.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def jobs(quick: bool) -> list[tuple[str, list[str]]]:
    rows = ["--rows", "100000", "--batch", "20000"] if quick else []
    out = [
        ("in-process, every strategy, DuckDB", ["bench.py", *rows, "--repeat", "3"]),
        ("whole process, every strategy, DuckDB", ["process.py", *rows, "--repeat", "3"]),
        *(
            []
            if quick
            else [
                (
                    "whole process at 10M rows, every strategy, DuckDB",
                    ["process.py", "--rows", "10000000", "--batch", "2000000", "--repeat", "3"],
                )
            ]
        ),
        ("whole process against dlt, every strategy, DuckDB", ["dlt_compare.py", *rows, "--repeat", "3"]),
        ("every strategy on every engine", ["engines.py", *rows, "--repeat", "2"]),
        ("query inside the target, DuckDB", ["query_in_target.py", "duckdb", "--rows", "100000" if quick else "1000000"]),
    ]  # fmt: skip
    pg = os.environ.get("LOADERS_TEST_POSTGRES_URL")
    server = ["--pg", pg] if pg else []
    out += [
        ("a 10M-row source, every strategy, peak RSS", ["memory.py", "--rows", "1000000" if quick else "10000000", *server]),
        ("the same batch into 1M and 10M rows", ["scaling.py", *(["--sizes", "100000", "1000000", "--batch", "20000"] if quick else []), *server]),
        ("cdc's upserts, statement by statement", ["cdc_shapes.py", "--rows", "100000" if quick else "1000000", *server]),
    ]  # fmt: skip
    if pg:  # two databases are made on that server and dropped
        out.append(
            (
                "query inside the target, PostgreSQL",
                ["query_in_target.py", pg, "--rows", "30000" if quick else "300000"],
            )
        )
    return out


#: the jobs the chart plots, by title: its label and the column of the ratio (the 10M whole process is
#: not one of them: the chart is of 200k rows into 1M)
CHARTED = {
    "in-process, every strategy, DuckDB": ("in-process", 3),
    "whole process, every strategy, DuckDB": ("whole process", 3),
    "whole process against dlt, every strategy, DuckDB": ("dlt, whole process", 5),
}


def ratios(text: str, column: int = 3) -> dict[str, float]:
    """strategy -> the ratio in ``column`` (loaders / hand-written in bench.py and process.py, dlt /
    hand-written in column 5 of dlt_compare.py)."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > column and parts[0] in ("full", "append", "merge", "scd2", "cdc"):
            try:
                found[parts[0]] = float(parts[column])
            except ValueError:
                continue
    return found


def chart(series: dict[str, dict[str, float]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    strategies = ["full", "append", "merge", "scd2", "cdc"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [s + i * width for s in range(len(strategies))]
        ax.bar(xs, [values.get(s, 0) for s in strategies], width, label=name)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([s + width * (len(series) - 1) / 2 for s in range(len(strategies))], strategies)
    ax.set_ylabel("time / hand-written SQL")
    ax.set_title("DuckDB, 200k rows into 1M (lower is better; 1.0 = hand-written)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    RESULTS.mkdir(exist_ok=True)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    doc = [
        "# Benchmark results",
        "",
        f"`make bench` ({'--quick, not a measurement' if a.quick else 'full size'}), {when}, "
        f"{platform.python_implementation()} {platform.python_version()}, {cores} cores, {platform.machine()}.",
        "Every figure is a median of the repeats each script states; ratios are loaders (or dlt) / hand-written",
        "SQL on the same engine in the same run.",
        "",
    ]
    series: dict[str, dict[str, float]] = {}
    for title, args in jobs(a.quick):
        start = time.monotonic()
        done = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], capture_output=True, text=True)
        took = time.monotonic() - start
        text = done.stdout.strip() if done.returncode == 0 else f"failed ({done.returncode}):\n{done.stderr[-3000:]}"
        print(f"{title}: {'ok' if done.returncode == 0 else 'FAILED'} in {took:.0f} s", flush=True)
        doc += [f"## {title}", "", f"`python benchmarks/{' '.join(args)}` ({took:.0f} s)", "", "```", text, "```", ""]
        if title in CHARTED and done.returncode == 0:
            label, column = CHARTED[title]
            series[label] = ratios(text, column)
    if chart(series, RESULTS / "ratios.png"):
        doc += ["![loaders / hand-written, DuckDB](ratios.png)", ""]
    (RESULTS / "RESULTS.md").write_text("\n".join(doc))
    print(f"wrote {RESULTS / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
