"""End to end under a real scheduler: `airflow standalone` on 127.0.0.1 with a SQLite metadata DB in a
temp AIRFLOW_HOME, Airflow's default settings (parallelism 32) and no source data made beforehand (the
DAG's prepare task makes it). Trigger the quick-start DAG, wait for success, check the mart's rows and
that the asset-scheduled report DAG ran after it, then stop every process Airflow started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[dict[str, str]]:
    if not (BIN / "airflow").exists():
        pytest.skip("apache-airflow is not installed (it is in the dev extra)")
    home, data, port = tmp_path / "airflow", tmp_path / "data", free_port()  # no data: the DAG makes it
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # standalone starts `airflow` by name
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "QUICKSTART_DATA": str(data),
        "QUICKSTART_WAREHOUSE": f"duckdb:///{tmp_path / 'wh.duckdb'}",
    }
    log = open(tmp_path / "standalone.log", "w")  # noqa: SIM115 - closed in the teardown below
    proc = subprocess.Popen(
        [BIN / "airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )  # its own process group, killed whole at the end
    try:
        yield {**env, "LOG": str(tmp_path / "standalone.log"), "WAREHOUSE": str(tmp_path / "wh.duckdb")}
    finally:
        stop_session(proc)
        log.close()
        assert not session_members(proc.pid), "airflow processes outlived the test"


def session_members(sid: int) -> list[int]:
    """Every live process of the session `airflow standalone` started (some leave its process group)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid and "zombie" not in Path(f"/proc/{entry}/status").read_text().lower():
                    members.append(int(entry))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    return members


def stop_session(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group and give it 20 s, then SIGKILL whatever of the session is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    deadline = time.monotonic() + 10
    while (left := session_members(proc.pid)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def cli(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run([BIN / "airflow", *args], env=env, capture_output=True, text=True, timeout=120)
    return out


def wait_for(what: str, check: Any, env: dict[str, str], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(3)
    tail = Path(env["LOG"]).read_text()[-3000:]
    pytest.fail(f"timed out waiting for {what}; standalone log ends:\n{tail}")


def json_rows(stdout: str) -> list[dict[str, Any]]:
    """The CLI's JSON output, after any log lines Airflow prints first on stdout."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("[")), None)
    if start is None:
        return []
    try:
        return list(json.loads("\n".join(lines[start:])))
    except json.JSONDecodeError:
        return []


def runs(env: dict[str, str], dag_id: str) -> list[dict[str, Any]]:
    return json_rows(cli(env, "dags", "list-runs", dag_id, "-o", "json").stdout)


def test_quickstart_dag_under_airflow_standalone(standalone: dict[str, str]) -> None:
    import duckdb

    env = standalone

    def parsed() -> bool:
        ids = {d["dag_id"] for d in json_rows(cli(env, "dags", "list", "-o", "json").stdout)}
        return {"loaders_quickstart", "loaders_customer_report"} <= ids

    wait_for("the DAGs to be parsed", parsed, env, timeout=180)
    trigger = cli(env, "dags", "trigger", "loaders_quickstart")
    assert trigger.returncode == 0, trigger.stderr[-2000:]

    def finished() -> str | None:
        states = [r["state"] for r in runs(env, "loaders_quickstart")]
        return next((s for s in states if s in ("success", "failed")), None)

    assert wait_for("the quick-start run", finished, env, timeout=240) == "success"

    def report_ran() -> bool:  # scheduled on the dim_customer asset, not on a clock
        return any(r["state"] == "success" for r in runs(env, "loaders_customer_report"))

    wait_for("the asset-scheduled report DAG", report_ran, env, timeout=120)

    def settled() -> list[str]:  # the @daily schedule adds a run beside the triggered one, and each
        # refresh of dim_customer a report run: the warehouse is read once all of them are done
        states = [r["state"] for dag_id in ("loaders_quickstart", "loaders_customer_report") for r in runs(env, dag_id)]
        return states if all(s in ("success", "failed") for s in states) else []

    assert set(wait_for("every run to finish", settled, env, timeout=240)) == {"success"}

    def warehouse() -> Any:  # a report run its asset has just fired may hold the file a moment
        try:
            return duckdb.connect(env["WAREHOUSE"], read_only=True)
        except duckdb.IOException as e:
            if "lock" not in str(e):
                raise
            return None

    con = wait_for("the warehouse to be free of writers", warehouse, env, timeout=120)
    try:
        assert con.execute("select count(*) from dim_customer where is_current").fetchone() == (40,)
        assert con.execute("select count(*) from fact_orders").fetchone() == (25,)
        assert con.execute("select count(distinct mart) from _loaders_runs where status = 'success'").fetchone() == (5,)
    finally:
        con.close()
