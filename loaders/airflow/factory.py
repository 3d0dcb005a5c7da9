"""Marts files -> DAGs: one DAG per file, one MartLoadOperator per mart, ordered by ``depends_on``.

The file's ``airflow:`` section sets the schedule, start date, retries and tags. Every DAG gets a
``plan`` param: trigger it with ``{"plan": true}`` to preview what each load would do.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, get_parsing_context

from loaders.airflow.operators import MartLoadOperator, PrepareOperator, mart_asset
from loaders.project import expand_env, load_project, mart_order
from loaders.urls import parse_url


def dags_from_marts(path: str | Path, *, target_conn_id: str | None = None, **dag_kwargs: Any) -> dict[str, DAG]:
    """The DAG for one marts file, keyed by dag_id (``globals().update(...)`` it in a DAG file)."""
    path = Path(path).resolve()
    project = load_project(path)
    opts = project.airflow
    dag_id = opts.dag_id or _default_dag_id(path)
    doc = "\n".join(f"- **{name}**: {spec.strategy} → `{spec.table or name}`" for name, spec in project.marts.items())
    settings: dict[str, Any] = {
        "schedule": opts.schedule,
        "start_date": datetime.combine(opts.start_date, datetime.min.time(), tzinfo=timezone.utc),
        "catchup": opts.catchup,
        "max_active_runs": opts.max_active_runs,
        "tags": opts.tags,
        "default_args": {"retries": opts.retries, "retry_delay": opts.retry_delay},
        "params": {"plan": Param(False, type="boolean", description="Only show what each load would do")},
        "doc_md": f"Marts loaded from `{path.name}` by loaders:\n\n{doc}",
        **dag_kwargs,
    }
    if target_conn_id is None and _one_writer(project.target):
        # every task writes one DuckDB/SQLite file: run them one at a time rather than have them wait
        # for each other's lock while holding Airflow's slots
        settings.setdefault("max_active_tasks", 1)
    with DAG(dag_id=dag_id, **settings) as dag:
        tasks = {
            name: MartLoadOperator(
                task_id=name,
                mart=name,
                marts_file=str(path),
                target_conn_id=target_conn_id,
                # known here: the operator need not read the marts file again for its outlet
                outlets=[mart_asset(name, project.marts[name].table, target_conn_id or project.target)],
            )
            for name in mart_order(dict(project.marts))
        }
        for name, spec in project.marts.items():
            for upstream in spec.depends_on:
                tasks[upstream] >> tasks[name]
        if opts.prepare:
            prepare = PrepareOperator(
                task_id="prepare", command=opts.prepare.command, creates=opts.prepare.creates, cwd=str(path.parent)
            )
            for name, spec in project.marts.items():
                if not spec.depends_on:
                    prepare >> tasks[name]
    return {dag_id: dag}


def _one_writer(target: str) -> bool:
    """An embedded, single-writer target (a DuckDB or SQLite file)."""
    return parse_url(target).get_backend_name() in ("duckdb", "sqlite")


def dags_from_folder(folder: str | Path, **kwargs: Any) -> dict[str, DAG]:
    """A DAG for every ``*.yaml`` / ``*.yml`` marts file in a folder.

    A worker starting a task parses the DAG file again, and needs one DAG of it: Airflow's parsing
    context names it, and only that marts file is turned into a DAG (with 200 marts in 10 files, a
    task starts in a fraction of a second instead of building 10 DAGs first, which under load ran
    past Airflow's 30 s import timeout)."""
    wanted = get_parsing_context().dag_id
    dags: dict[str, DAG] = {}
    for path in sorted(Path(folder).glob("*.y*ml")):
        if wanted is None or _dag_id_of(path) in (wanted, None):
            dags.update(dags_from_marts(path, **kwargs))
    return dags


def _dag_id_of(path: Path) -> str | None:
    """The dag_id a marts file declares or implies, read without building anything (None: unreadable,
    so it is built and its error reported as usual)."""
    import yaml

    try:
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        declared = ((data or {}).get("airflow") or {}).get("dag_id")
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    return str(expand_env(declared)) if declared is not None else _default_dag_id(path)


def _default_dag_id(path: Path) -> str:
    """A marts file without ``airflow.dag_id`` is the DAG ``loaders_<file name>``."""
    return "loaders_" + re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
