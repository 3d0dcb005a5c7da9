"""Many marts on Airflow's CeleryExecutor, checked against the same loads run one by one.

    python run.py                                   # 200 marts, 3 workers, one worker killed mid-run
    python run.py --marts 20 --group-size 5 --workers 2 --rows 200   # the small version CI runs

What it does, all on this machine and all removed afterwards (``--keep`` keeps the work folder):
1. makes the marts (``generate.py``: every strategy, PostgreSQL and DuckDB targets, ``depends_on``
   chains, two marts per pair of DAGs that load one table by mistake) and day 1 of their sources;
2. starts Airflow 3 with the CeleryExecutor: a metadata database of its own on the PostgreSQL server,
   Redis as the broker (a queue of its own), the API server, scheduler, DAG processor and ``--workers``
   Celery workers as separate processes;
3. triggers every DAG at once for day 1, waits, writes day 2, triggers them all again and, with
   ``--kill-worker``, SIGKILLs one worker (and the tasks it runs) while it is loading;
4. after each day loads the same marts one by one with the Python API into a reference database,
   then compares every table row by row, and checks the run logs: no batch applied twice, every
   Airflow task state matches its run-log entry, the two marts on one table left exactly one's rows.

Prints the figures and writes them as JSON (``--summary``); exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import generate  # noqa: E402

BIN = Path(sys.executable).parent
DAYS = {1: datetime(2026, 1, 1), 2: datetime(2026, 1, 2)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def databases(server: str, names: list[str]) -> Iterator[None]:
    """Fresh databases on the server, dropped afterwards (also when the run fails)."""
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for n in names:
            conn.exec_driver_sql(f'drop database if exists "{n}" with (force)')
            conn.exec_driver_sql(f'create database "{n}"')
    try:
        yield
    finally:
        with admin.connect() as conn:
            for n in names:
                conn.exec_driver_sql(f'drop database if exists "{n}" with (force)')
        admin.dispose()


class Airflow:
    """The Airflow processes of this run, each in a session of its own so it can be killed whole."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, {}  # type: dict[str, subprocess.Popen[bytes]]
        logs.mkdir(parents=True, exist_ok=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([BIN / "airflow", *args], env=self.env, capture_output=True, text=True, timeout=600)

    def start(self, name: str, *args: str) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(
            [BIN / "airflow", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, name: str) -> None:
        """SIGKILL a process and everything it started (a worker's pool and its task processes)."""
        proc = self.procs[name]
        for pid in session_members(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in self.procs.items():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            if proc.poll() is None or session_members(proc.pid):
                self.kill(name)


def session_members(sid: int) -> list[int]:
    """Every live process of a session (Celery's pool and task processes included)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid and "zombie" not in Path(f"/proc/{entry}/status").read_text().lower():
                    members.append(int(entry))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    return members


def api(port: int, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - our own local API server
        return json.loads(r.read() or b"null")


def wait_for(what: str, check: Any, timeout: float, every: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = check()
            if value:
                return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


# --------------------------------------------------------------------------- the run
class Scale:
    def __init__(self, a: argparse.Namespace, work: Path) -> None:
        self.a, self.work = a, work
        suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.meta_db, self.wh_db, self.ref_db = f"scale_af_{suffix}", f"scale_wh_{suffix}", f"scale_ref_{suffix}"
        self.wh, self.ref = with_database(a.pg, self.wh_db), with_database(a.pg, self.ref_db)
        self.queue = f"loaders_scale_{suffix}"
        self.groups = generate.groups(a.marts, a.group_size)
        self.figures: dict[str, Any] = {"marts": a.marts, "dags": len(self.groups), "workers": a.workers}
        self.problems: list[str] = []

    def env(self, port: int) -> dict[str, str]:
        meta = sa.engine.make_url(with_database(self.a.pg, self.meta_db)).set(drivername="postgresql+psycopg")
        meta_url = meta.render_as_string(hide_password=False)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.work / "airflow"),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
            # psycopg 3 is async too: no asyncpg / psycopg2 to install beside it
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta_url.replace("+psycopg:", "+psycopg_async:", 1),
            "AIRFLOW__CELERY__BROKER_URL": self.a.redis,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url,
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.a.concurrency),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.work / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # a killed worker's tasks stop heartbeating: fail them (and retry elsewhere) after 30 s
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        }

    def run(self) -> None:
        a = self.a
        generate.write_marts(self.work, a.marts, a.group_size, self.wh)
        generate.write_day(self.work, a.marts, a.group_size, 1, a.rows)
        port = free_port()
        af = Airflow(self.env(port), self.work / "logs")
        with databases(a.pg, [self.meta_db, self.wh_db, self.ref_db]):
            try:
                t = time.monotonic()
                done = af.cli("db", "migrate")
                if done.returncode:
                    raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-3000:]}")
                af.start("api-server", "api-server")
                af.start("scheduler", "scheduler")
                af.start("dag-processor", "dag-processor")
                for w in range(1, a.workers + 1):
                    af.start(f"worker{w}", "celery", "worker", "-q", self.queue, "--celery-hostname", f"w{w}@scale")
                want = {f"scale_g{g[0].group:02d}" for g in self.groups}
                wait_for("the API server", lambda: api(port, "GET", "/monitor/health"), 180)
                wait_for("every DAG to be parsed", lambda: want <= self.dag_ids(port), 300)
                self.figures["start_s"] = round(time.monotonic() - t, 1)
                for day in (1, 2):
                    if day == 2:
                        generate.write_day(self.work, a.marts, a.group_size, 2, a.rows)
                    self.round(af, port, day, kill=a.kill_worker and day == 2)
                    self.reference(day)
                    self.compare(day)
                self.check_run_logs()
            finally:
                af.stop()
                self.forget_queue()

    def dag_ids(self, port: int) -> set[str]:
        return {d["dag_id"] for d in api(port, "GET", "/dags?limit=1000")["dags"]}

    def round(self, af: Airflow, port: int, day: int, kill: bool) -> None:
        """Trigger every DAG for ``day`` at once and wait until every run has finished."""
        run_id = f"day{day}"
        idle = len(session_members(af.procs["worker1"].pid))
        t = time.monotonic()
        for g in self.groups:
            body = {"dag_run_id": run_id, "logical_date": DAYS[day].isoformat() + "Z"}
            api(port, "POST", f"/dags/scale_g{g[0].group:02d}/dagRuns", body)
        if kill:
            self.kill_a_worker(af, idle)
        timeout = self.a.timeout

        def finished() -> bool:
            states = self.run_states(run_id)
            return len(states) == len(self.groups) and all(s in ("success", "failed") for s in states.values())

        wait_for(f"the day {day} runs", finished, timeout, every=3)
        self.figures[f"day{day}_wall_s"] = round(time.monotonic() - t, 1)
        failed = [d for d, s in self.run_states(run_id).items() if s != "success"]
        if failed:
            self.problems.append(f"day {day}: DAG runs not successful: {failed}")

    def meta(self) -> sa.Engine:
        return sa.create_engine(with_database(self.a.pg, self.meta_db), poolclass=sa.pool.NullPool)

    def run_states(self, run_id: str) -> dict[str, str]:
        with self.meta().connect() as conn:
            rows = conn.execute(sa.text("select dag_id, state from dag_run where run_id = :r"), {"r": run_id})
            return {d: s for d, s in rows}

    def kill_a_worker(self, af: Airflow, idle: int) -> None:
        """SIGKILL worker 1 once it is running tasks (its session has more processes than when idle:
        each task is a process the pool forks): they must be retried elsewhere, applied once."""
        pid = af.procs["worker1"].pid
        try:
            wait_for("worker 1 to run tasks", lambda: len(session_members(pid)) > idle, 120, every=0.2)
        except TimeoutError:
            self.problems.append("worker 1 ran no task in 120 s: nothing to kill")
            return
        time.sleep(1)  # into the load, not its start
        self.figures["killed_worker_tasks"] = max(0, len(session_members(pid)) - idle)
        af.kill("worker1")

    # ----------------------------------------------------------------------- checks
    def target_of(self, group: int, reference: bool) -> str:
        if generate.on_postgres(group):
            return self.ref if reference else self.wh
        path = generate.duckdb_file(self.work, group)
        return f"duckdb:///{path.with_suffix('.ref.duckdb') if reference else path}"

    def reference(self, day: int) -> None:
        """The same marts, loaded one by one with the Python API at the same logical date: what every
        table should hold. The two marts on one table load separately, each into a table of its own."""
        from loaders.project import load_project, mart_order
        from loaders.runner import load_mart

        for group in self.groups:
            g = group[0].group
            project = load_project(self.work / "marts" / f"scale_g{g:02d}.yaml")
            for name in mart_order(dict(project.marts)):
                spec = project.marts[name]
                if spec.table and spec.table.startswith("shared_"):
                    spec = spec.model_copy(update={"table": f"{spec.table}__{name}"})
                load_mart(name, spec, self.target_of(g, True), base_dir=project.base_dir, run_time=DAYS[day])

    def compare(self, day: int) -> None:
        mismatched = 0
        for group in self.groups:
            g = group[0].group
            for m in group:
                got = table_rows(self.target_of(g, False), m.table)
                if m.collides:  # one of the two marts' loads, whole, never a mix
                    pair = [x for grp in self.groups for x in grp if x.table == m.table]
                    options = [table_rows(self.target_of(g, True), f"{m.table}__{x.name}") for x in pair]
                    ok = got in options
                else:
                    ok = got == table_rows(self.target_of(g, True), m.table)
                if not ok:
                    mismatched += 1
                    self.problems.append(f"day {day}: {m.name} ({m.table}) differs from the reference")
        self.figures[f"day{day}_tables_compared"] = sum(len(g) for g in self.groups)
        self.figures[f"day{day}_mismatched"] = mismatched

    def check_run_logs(self) -> None:
        """No batch applied twice; each task's final state agrees with the run log of its target."""
        runs: list[tuple[str, str, str]] = []
        targets = {self.target_of(g[0].group, False) for g in self.groups}
        for url in targets:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with engine.connect() as conn:
                runs += conn.execute(sa.text("select mart, batch_key, status from _loaders_runs")).fetchall()
            engine.dispose()
        applied: dict[str, int] = {}
        ended: dict[str, set[str]] = {}
        for _, key, status in runs:
            if key:
                applied[key] = applied.get(key, 0) + (status == "success")
                ended.setdefault(key, set()).add(status)
        doubles = [k for k, n in applied.items() if n > 1]
        self.figures["double_loads"] = len(doubles)
        self.problems += [f"batch applied twice: {k}" for k in doubles]
        with self.meta().connect() as conn:
            tis = conn.execute(
                sa.text("select dag_id, run_id, task_id, map_index, state, try_number from task_instance")
            ).fetchall()
        disagree = 0
        for dag_id, run_id, task_id, map_index, state, _ in tis:
            statuses = ended.get(f"{dag_id}/{run_id}/{task_id}/{map_index}", set())
            loaded = "success" in statuses or "skipped" in statuses
            if (state == "success") != loaded:
                disagree += 1
                self.problems.append(f"{dag_id}/{run_id}/{task_id}: Airflow says {state}, run log says {statuses}")
        self.figures["task_runs"] = len(tis)
        self.figures["tasks_retried"] = sum(1 for t in tis if t[5] > 1)
        self.figures["skipped_as_applied"] = sum(1 for _, _, s in runs if s == "skipped")
        self.figures["states_disagreeing"] = disagree
        logs = list((self.work / "airflow" / "logs").rglob("*.log"))
        text = [p.read_text(errors="replace") for p in logs]
        # task attempts (one log file each) that met each kind of lock
        self.figures["single_writer_waits"] = sum("is held by another writer" in t for t in text)
        self.figures["table_lock_retries"] = sum("another mart is loading table" in t for t in text)
        self.figures["mart_lock_retries"] = sum("another run of this mart holds its lock" in t for t in text)

    def forget_queue(self) -> None:
        """Our queue's keys in the shared Redis (the broker is not ours to flush)."""
        with contextlib.suppress(Exception):
            import redis

            r = redis.Redis.from_url(self.a.redis)
            for key in r.scan_iter(f"*{self.queue}*"):
                r.delete(key)
            for tag, message in r.hscan_iter("unacked"):  # the killed worker's tasks, never acknowledged
                if self.queue.encode() in message:
                    r.hdel("unacked", tag)
                    r.zrem("unacked_index", tag)


def table_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f'select * from "{table}"')).fetchall()
        return sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--marts", type=int, default=200)
    p.add_argument("--group-size", type=int, default=20, help="marts per marts file (DAG)")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=4, help="task slots per worker")
    p.add_argument("--rows", type=int, default=500, help="keys per mart source")
    p.add_argument("--kill-worker", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="a server URL")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for one day's runs")
    p.add_argument("--summary", type=Path, help="write the figures as JSON here")
    p.add_argument("--keep", type=Path, help="work in this folder and keep it (logs, data, DuckDB files)")
    a = p.parse_args()
    # a SIGTERM (a CI timeout, Ctrl-C from a supervisor) unwinds like an error: processes stopped,
    # databases dropped, queue removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with contextlib.ExitStack() as stack:
        work = a.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="loaders-scale-")))
        work = work.resolve()
        work.mkdir(parents=True, exist_ok=True)
        scale = Scale(a, work)
        start = time.monotonic()
        try:
            scale.run()
        except Exception as e:  # noqa: BLE001 - reported with the figures, exit 1
            scale.problems.append(f"run failed: {type(e).__name__}: {e}")
        scale.figures["total_wall_s"] = round(time.monotonic() - start, 1)
        scale.figures["problems"] = scale.problems
        print(json.dumps(scale.figures, indent=2))
        if a.summary:
            a.summary.write_text(json.dumps(scale.figures, indent=2))
        return 1 if scale.problems else 0


if __name__ == "__main__":
    sys.exit(main())
