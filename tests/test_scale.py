"""The scale scenario, small: 20 marts in 4 DAGs on Airflow's CeleryExecutor with 2 workers, one of
them SIGKILLed while it loads (`examples/scale/run.py`, which the README runs with 200 marts and 3
workers). Needs the PostgreSQL server (metadata database and targets) and Redis (the broker)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def test_twenty_marts_on_celery_workers_one_killed(tmp_path: Path) -> None:
    pg = os.environ.get("LOADERS_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("LOADERS_TEST_POSTGRES_URL is not set (.ci/run sets it): the scale run needs PostgreSQL")
    if not reachable("127.0.0.1", 6379):
        pytest.skip("no Redis on 127.0.0.1:6379: the CeleryExecutor needs it as its broker")
    pytest.importorskip("airflow.providers.celery", reason="apache-airflow-providers-celery is in the dev extra")
    server = sa.engine.make_url(pg).set(database="postgres").render_as_string(hide_password=False)
    summary = tmp_path / "summary.json"
    args = ["--marts", "20", "--group-size", "5", "--workers", "2", "--rows", "200", "--timeout", "600"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "scale" / "run.py"), *args, "--pg", server, "--summary", str(summary)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert summary.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(summary.read_text())
    assert figures["problems"] == [], figures
    assert done.returncode == 0
    assert figures["day1_mismatched"] == figures["day2_mismatched"] == 0
    assert figures["day2_tables_compared"] == 20
    assert figures["double_loads"] == 0 and figures["states_disagreeing"] == 0
    assert figures["killed_worker_tasks"] >= 1  # the worker died while it loaded
    assert figures["tasks_retried"] >= figures["killed_worker_tasks"]  # ... and its tasks ran again elsewhere
