"""Airflow 3 for real: DagBag import of dags/, the operator's execute path (DuckDB and PostgreSQL, with a
forced failure and retries), dag.test() of the example DAG, and the plan param.

Airflow reads its configuration when first imported, so this module sets AIRFLOW_HOME (a temp folder
with a SQLite metadata DB) before anything imports airflow, and its tests share one xdist worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.xdist_group("airflow")


@pytest.fixture(scope="module")
def airflow_home() -> Any:
    import importlib.util

    if importlib.util.find_spec("airflow") is None:
        pytest.skip("apache-airflow is not installed (it is in the dev extra)")
    if "airflow" in sys.modules:
        pytest.fail("airflow was imported before its test configuration was set")
    home = Path(tempfile.mkdtemp(prefix="loaders-airflow-"))
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    os.environ.update(env)
    subprocess.run(
        [Path(sys.executable).parent / "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
        timeout=300,
    )
    return home


@pytest.fixture
def quickstart_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Day 1 of the quick-start data in a temp folder, and the example DAG pointed at it."""
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, ROOT / "examples/quickstart/generate.py", "--day", "1", "--out", data],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("QUICKSTART_DATA", str(data))
    monkeypatch.setenv("QUICKSTART_WAREHOUSE", f"duckdb:///{tmp_path / 'wh.duckdb'}")
    return tmp_path


def context(run_id: str = "manual__1", task_id: str = "load") -> dict[str, Any]:
    from datetime import datetime, timezone

    ti = SimpleNamespace(dag_id="d", run_id=run_id, task_id=task_id, map_index=-1)
    return {"ti": ti, "logical_date": datetime(2026, 3, 1, tzinfo=timezone.utc), "params": {}}


def test_dagbag_imports_every_dag_file(airflow_home: Path, quickstart_data: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    assert set(bag.dags) == {"loaders_quickstart", "loaders_customer_report"}
    dag = bag.dags["loaders_quickstart"]
    assert {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} == {
        "prepare": [],  # makes the sources on a fresh clone
        "fx_rates": ["prepare"],
        "dim_product": ["prepare"],
        "dim_customer": ["prepare"],
        "inventory": ["dim_product"],
        "fact_orders": ["dim_customer", "dim_product"],
    }
    assert dag.get_task("fx_rates").retries == 2
    assert dag.max_active_tasks == 1  # one DuckDB file: one writer at a time
    outlet = dag.get_task("dim_customer").outlets[0]
    report = bag.dags["loaders_customer_report"]
    assert outlet.name.startswith("loaders.duckdb-") and outlet.name.endswith(".dim_customer")
    assert outlet.uri.endswith("/dim_customer")
    assert outlet in report.timetable.asset_condition.objects  # scheduled on the refresh


def test_two_marts_on_one_table_share_its_asset(airflow_home: Path, tmp_path: Path) -> None:
    """Two DAGs whose marts load one table name one Asset (Airflow fails a task whose outlet shares a
    URI with a differently named asset as "inactive" before it runs)."""
    from loaders.airflow import dags_from_marts

    outlets = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            "target: postgresql://h/wh\n"
            f"marts: {{load_{name}: {{strategy: full, table: shared, source: {{path: {name}.csv}}}}}}\n"
        )
        (dag,) = dags_from_marts(path).values()
        outlets.append(dag.get_task(f"load_{name}").outlets[0])
    assert outlets[0] == outlets[1]
    assert (outlets[0].name, outlets[0].uri) == ("loaders.postgresql-h-wh.shared", "loaders://postgresql-h-wh/shared")


def test_a_worker_builds_only_the_dag_of_its_task(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task start parses the DAG file again; Airflow's parsing context names the DAG it needs,
    and only that marts file becomes a DAG (a folder of many marts files otherwise costs every task)."""
    from loaders.airflow import dags_from_folder

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(
            f"airflow: {{dag_id: dag_{name}}}\nmarts: {{m: {{strategy: full, source: {{path: x.csv}}}}}}\n"
        )
    assert sorted(dags_from_folder(tmp_path)) == ["dag_a", "dag_b", "dag_c"]
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "dag_b")
    assert list(dags_from_folder(tmp_path)) == ["dag_b"]


def test_provider_is_registered(airflow_home: Path) -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "loaders" in ProvidersManager().providers
    assert "loaders" in ProvidersManagerTaskRuntime().hooks  # where tasks look hooks up in Airflow 3


@pytest.fixture(params=["duckdb", "postgres"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path, airflow_home: Path) -> Any:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'op.duckdb'}"
        return
    engine_fixture = request.getfixturevalue("engine_postgres")
    yield engine_fixture.url


@pytest.fixture
def engine_postgres(tmp_path: Path) -> Any:
    from conftest import ENGINES

    yield from ENGINES["postgres"](tmp_path)


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    e = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with e.connect() as conn:
        out = [tuple(r) for r in conn.exec_driver_sql(sql)]
    e.dispose()
    return out


def test_operator_pushes_xcom_and_survives_retries(target_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forced failure changes nothing; the retry loads; a retry after a committed try loads nothing."""
    from airflow.sdk import Connection

    from loaders import Append
    from loaders.airflow import MartLoadOperator

    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE", Connection(conn_id="warehouse", conn_type="loaders", host=target_url).as_json()
    )
    op = MartLoadOperator(
        task_id="load", mart="events", loader=Append(), source=[{"id": 1}, {"id": 2}], target_conn_id="warehouse"
    )

    def boom(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO events"):
            raise sa.exc.OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", boom)
    try:
        with pytest.raises(Exception, match="server closed the connection"):
            op.execute(context())  # transient: raised as is, so Airflow retries it
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", boom)
    assert rows(target_url, "select count(*) from _loaders_runs where status = 'failed'") == [(1,)]

    xcom = op.execute(context())  # the retry
    assert xcom["status"] == "success" and xcom["inserted"] == 2 and xcom["mart"] == "events"
    again = op.execute(context())  # a retry of a task whose try had committed
    assert again["status"] == "skipped" and again["inserted"] == 0
    assert rows(target_url, "select id from events order by id") == [(1,), (2,)]
    other_run = op.execute(context(run_id="manual__2"))  # a new run is a new batch
    assert other_run["inserted"] == 2


def test_operator_fails_without_retry_on_bad_data(airflow_home: Path, tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from loaders import Merge
    from loaders.airflow import MartLoadOperator

    op = MartLoadOperator(
        task_id="load",
        mart="dim",
        loader=Merge(keys=["id"]),
        source=[{"id": None}],
        target=f"duckdb:///{tmp_path / 'x.duckdb'}",
    )
    with pytest.raises(AirflowFailException, match="mart dim: key column 'id' has NULLs"):
        op.execute(context())


def test_operator_from_marts_file_with_source_connection(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from loaders.airflow import MartLoadOperator

    src = tmp_path / "src.duckdb"
    con = duckdb.connect(str(src))
    con.execute("create table t as select range as id from range(3)")
    con.close()
    monkeypatch.setenv("AIRFLOW_CONN_SRC", f'{{"conn_type": "duckdb", "host": "{src}"}}')
    (tmp_path / "m.yaml").write_text(
        "target: duckdb:///wh.duckdb\nmarts:\n  ids:\n    strategy: append\n    cursor: id\n"
        "    source: {query: select id from t, url: 'duckdb:///:memory:'}\n"
    )
    op = MartLoadOperator(task_id="ids", mart="ids", marts_file=str(tmp_path / "m.yaml"), source_conn_id="SRC")
    assert op.outlets[0].uri == "loaders://duckdb-wh/ids"
    assert op.execute(context())["inserted"] == 3
    assert op.execute(context(run_id="r2"))["inserted"] == 0  # the cursor: nothing new


def test_dag_test_runs_the_example_dag(airflow_home: Path, quickstart_data: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    dag = DagBag(dag_folder=str(ROOT / "dags" / "loaders_marts.py")).dags["loaders_quickstart"]
    run = dag.test(run_conf={"plan": True})
    assert run.state == DagRunState.SUCCESS
    assert not (quickstart_data / "wh.duckdb").exists() or rows(
        f"duckdb:///{quickstart_data / 'wh.duckdb'}", "select count(*) from _loaders_runs where status = 'success'"
    ) == [(0,)]
    # dag.test(run_conf=...) updates the in-memory DAG's params: parse it afresh for the real run
    dag = DagBag(dag_folder=str(ROOT / "dags" / "loaders_marts.py")).dags["loaders_quickstart"]
    run = dag.test()
    assert run.state == DagRunState.SUCCESS
    wh = f"duckdb:///{quickstart_data / 'wh.duckdb'}"
    assert rows(wh, "select count(*) from dim_customer where is_current") == [(40,)]
    assert rows(wh, "select count(*) from fact_orders") == [(25,)]
    assert rows(wh, "select count(distinct mart) from _loaders_runs where status = 'success'") == [(5,)]


def test_operator_runs_the_newer_strategies_with_the_logical_date(airflow_home: Path, tmp_path: Path) -> None:
    from datetime import date

    from loaders import OverwriteWindow, Snapshot
    from loaders.airflow import MartLoadOperator

    url = f"duckdb:///{tmp_path / 's.duckdb'}"
    snap = MartLoadOperator(
        task_id="balances", mart="balances", loader=Snapshot(retain=2), source=[{"acct": 1}], target=url
    )
    assert snap.execute(context())["inserted"] == 1  # logical date 2026-03-01
    assert rows(url, "select acct, snapshot_date from balances") == [(1, date(2026, 3, 1))]
    window = MartLoadOperator(
        task_id="daily",
        mart="daily",
        loader=OverwriteWindow(partition_by="d"),
        source=[{"d": date(2026, 3, 1), "n": 5}],
        target=url,
    )
    assert window.execute(context())["inserted"] == 1
    assert window.execute(context(run_id="rerun"))["deleted"] == 1  # a rerun replaces its window
    assert rows(url, "select d, n from daily") == [(date(2026, 3, 1), 5)]


def test_failed_health_check_fails_the_task_readably(airflow_home: Path, tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from loaders import Append
    from loaders.airflow import MartLoadOperator

    op = MartLoadOperator(
        task_id="scores",
        mart="scores",
        loader=Append(keys=["id"], checks={"unique_keys": True}),
        source=[{"id": 1}],
        target=f"duckdb:///{tmp_path / 'h.duckdb'}",
    )
    op.execute(context())
    with pytest.raises(AirflowFailException, match=r"mart scores: health check failed: unique_keys: 1 keys \(id\)"):
        op.execute(context(run_id="next"))


def test_operator_retries_only_what_a_retry_can_fix(airflow_home: Path, tmp_path: Path) -> None:
    """A terminal database error (a NOT NULL violation) fails the task for good; a held lock raises as
    itself, so Airflow's retries take it."""
    import duckdb
    from airflow.sdk.exceptions import AirflowFailException

    from loaders import FullReload, TargetLocked
    from loaders.airflow import MartLoadOperator

    path = tmp_path / "e.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t (id integer, v integer not null)")
    op = MartLoadOperator(
        task_id="t", mart="t", loader=FullReload(), source=[{"id": 1, "v": None}], target=f"duckdb:///{path}"
    )
    with pytest.raises(AirflowFailException, match="mart t: .*NOT NULL"):
        op.execute(context())
    holder = duckdb.connect(str(path))  # DuckDB locks the file per process: take it from here
    try:
        import subprocess
        import sys

        code = (
            "import sys; from loaders.airflow import MartLoadOperator; from loaders import FullReload, TargetLocked\n"
            f"op = MartLoadOperator(task_id='t', mart='t', loader=FullReload(), source=[{{'id': 1, 'v': 1}}], "
            f"target='duckdb:///{path}?loaders_lock_timeout=1')\n"  # wait one second for the writer, not 300
            "try:\n    op.execute({})\nexcept TargetLocked as e:\n    print('locked', e.transient)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert "locked True" in out.stdout, out.stderr[-2000:]
    finally:
        holder.close()
    assert TargetLocked.transient


LINEAGE_DAG = """
import os
from datetime import datetime, timezone
from pathlib import Path
from airflow.sdk import DAG
from loaders import Append
from loaders.airflow import MartLoadOperator
here = Path(os.environ["LINEAGE_DIR"])
with DAG("lineage_demo", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
    MartLoadOperator(task_id="orders", mart="orders", loader=Append(source={"path": str(here / "orders.csv")}),
                     target=f"duckdb:///{here / 'wh.duckdb'}")
"""


def test_operator_reports_openlineage_datasets_with_row_counts(tmp_path: Path) -> None:
    """Through the OpenLineage provider's own listener and file transport, in a fresh Airflow process:
    the COMPLETE event names the CSV as input (rows read) and the mart's table as output (rows written)."""
    from importlib.metadata import PackageNotFoundError, version

    try:  # asked of the installed packages: importing Airflow here would configure it too early
        version("apache-airflow-providers-openlineage")
    except PackageNotFoundError:
        pytest.skip("the openlineage provider is not installed (it is in the dev extra)")
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "lineage_demo.py").write_text(LINEAGE_DAG)
    (tmp_path / "orders.csv").write_text("id,amount\n1,10\n2,20\n3,30\n")
    events = tmp_path / "events.jsonl"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "loaders-test",
        "LINEAGE_DIR": str(tmp_path),
    }
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag\n"
        f"dag = DagBag(dag_folder={str(tmp_path / 'dags' / 'lineage_demo.py')!r}).dags['lineage_demo']\n"
        "print('STATE', dag.test().state)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "STATE success" in out.stdout, out.stderr[-3000:]
    complete = [
        e
        for e in map(json.loads, events.read_text().splitlines())
        if e["eventType"] == "COMPLETE" and e["job"]["name"] == "lineage_demo.orders"
    ]
    assert len(complete) == 1
    (source,), (table,) = complete[0]["inputs"], complete[0]["outputs"]
    assert (source["namespace"], source["name"]) == ("file", str((tmp_path / "orders.csv").resolve()))
    assert source["inputFacets"]["inputStatistics"]["rowCount"] == 3
    assert (table["namespace"], table["name"]) == ("file", f"{(tmp_path / 'wh.duckdb').resolve()}/main.orders")
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_lineage_dataset_names() -> None:
    from loaders.lineage import source_datasets, table_dataset
    from loaders.spec import QuerySource

    assert table_dataset("postgresql+psycopg://u:pw@db.example:6543/shop", "marts.dim_customer") == (
        "postgres://db.example:6543",
        "shop.marts.dim_customer",
    )
    assert table_dataset("mysql+pymysql://root@db/shop", "orders") == ("mysql://db:3306", "shop.orders")
    query = QuerySource(query="select o.id from public.orders o join customers c using (id)", url="postgresql://h/app")
    assert sorted(source_datasets(query)) == [
        ("postgres://h:5432", "app.public.customers"),
        ("postgres://h:5432", "app.public.orders"),
    ]
