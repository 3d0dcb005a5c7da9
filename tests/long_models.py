"""The long model run, in chunks that survive interruption: seeds x models x engines, 1,000 examples
per chunk, one line per finished chunk in a summary file (with the commit it ran); a chunk already
in it is skipped, so the run can be stopped (between chunks or not) and started again, over several
sittings. The summary is committed (tests/results/long_models.txt), so the run goes on where the
last sitting left it.

    python tests/long_models.py [--seeds 3 4 5] [--summary tests/results/long_models.txt] [--engines duckdb postgres]

PostgreSQL comes from LOADERS_TEST_POSTGRES_URL, as for the suite. The README's reliability section
quotes the summary.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

MODELS = ["full", "merge", "append_cursor", "append_lookback", "scd2", "cdc"]
HERE = Path(__file__).parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    p.add_argument("--engines", nargs="+", default=["duckdb", "postgres"])
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--summary", type=Path, default=HERE / "results" / "long_models.txt")
    a = p.parse_args()
    done = a.summary.read_text() if a.summary.exists() else ""
    env = {**os.environ, "LOADERS_HYPOTHESIS_EXAMPLES": str(a.examples)}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    commit = head.stdout.strip() or "?"
    for seed in a.seeds:
        for model in MODELS:
            for engine in a.engines:
                chunk = f"seed={seed} model={model} engine={engine}"
                if f"{chunk} rc=0 " in done:
                    continue
                start = time.monotonic()
                tests = [str(HERE / "test_models.py"), "-k", f"test_{model}_model and {engine}"]
                options = ["--hypothesis-profile", "long", f"--hypothesis-seed={seed}", "-p", "no:cacheprovider", "-q"]
                command = [sys.executable, "-m", "pytest", *tests, *options]
                run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent)
                last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
                secs = time.monotonic() - start
                line = f"{chunk} rc={run.returncode} secs={secs:.0f} examples={a.examples} commit={commit} {last}"
                with a.summary.open("a") as f:
                    f.write(line + "\n")
                print(line, flush=True)
                if run.returncode != 0:
                    (a.summary.parent / f"failed_{seed}_{model}_{engine}.log").write_text(run.stdout + run.stderr)


if __name__ == "__main__":
    main()
