"""MartLoadOperator: one mart, one task. Thin: it resolves the spec and URLs and calls the runner.

- Targets and SQL sources may come from Airflow Connections (``target_conn_id``, ``source_conn_id``).
- The result goes to XCom (``return_value``: counts, watermark, timings) and to the log as one line.
- The mart's table is declared as an Asset outlet, so other DAGs can be scheduled on its refresh.
- Retries are safe: the batch key is the task instance (dag, run, task, map index), and a key the
  run log already holds as a success is skipped, so a retry never applies a batch twice. Spec and
  data errors fail the task without retrying (a retry cannot fix them); lock and connection errors
  raise normally so Airflow retries them.
- ``plan=True`` (or the DAG param ``plan``) runs the load in a rolled-back transaction: counts and SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from airflow.sdk import Asset, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from loaders.errors import LoaderError, SpecError
from loaders.project import load_project
from loaders.result import LoadResult
from loaders.spec import MartBase, QuerySource
from loaders.strategies import Strategy


class PrepareOperator(BaseOperator):
    """Run a marts file's ``airflow.prepare`` command (unless what it creates is already there)."""

    ui_color = "#e8f0e0"

    def __init__(self, *, command: list[str], cwd: str, creates: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command, self.cwd, self.creates = command, cwd, creates

    def execute(self, context: Any) -> None:
        import subprocess
        import sys

        if self.creates and (Path(self.cwd) / self.creates).exists():
            self.log.info("%s exists; nothing to prepare", self.creates)
            return
        command = [sys.executable if part == "python" else part for part in self.command]
        done = subprocess.run(command, cwd=self.cwd, capture_output=True, text=True)
        for line in (done.stdout + done.stderr).splitlines():
            self.log.info("%s", line)
        if done.returncode:
            raise AirflowFailException(f"prepare step {' '.join(self.command)} exited with {done.returncode}")


def mart_asset(mart: str, table: str | None = None, target: str | None = None) -> Asset:
    """The Asset a mart's refresh updates: ``loaders://<target>/<table>``, named ``loaders.<target>.<table>``.

    ``target`` is a connection id or a URL; only its backend, host and database name go into the URI.
    The name follows the table, not the mart: Airflow wants one name per URI, and two marts that load
    one table (two DAGs, by mistake or by design) would otherwise make one of their tasks fail on an
    "inactive asset" before it loads anything.
    """
    key = _target_key(target)
    return Asset(uri=f"loaders://{key}/{table or mart}", name=f"loaders.{key}.{table or mart}")


def _target_key(target: str | None) -> str:
    if not target:
        return "default"
    if "://" not in target:
        return target  # a connection id
    url = sa.engine.make_url(target)
    database = Path(url.database).stem if url.database else ""
    return "-".join(p for p in (url.get_backend_name(), url.host, database) if p)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class MartLoadOperator(BaseOperator):
    """Load one mart from a marts file (``marts_file`` + ``mart``) or a Python loader (``loader``)."""

    template_fields: Sequence[str] = ("marts_file", "mart", "target", "target_conn_id", "source_conn_id", "plan")
    ui_color = "#d4e6f1"

    def __init__(
        self,
        *,
        mart: str,
        marts_file: str | None = None,
        loader: Strategy[Any] | None = None,
        source: Any = None,
        target: str | None = None,
        target_conn_id: str | None = None,
        source_conn_id: str | None = None,
        plan: bool | str = False,
        **kwargs: Any,
    ) -> None:
        if (marts_file is None) == (loader is None):
            raise SpecError("give either marts_file (with mart) or loader", mart=mart)
        if "outlets" not in kwargs:
            table = loader.spec.table if loader else None
            if marts_file and table is None:
                try:
                    project = load_project(marts_file)
                    table = project.marts[mart].table if mart in project.marts else None
                    target = target or (None if target_conn_id else project.target)
                except LoaderError:
                    pass  # reported when the task runs, with the mart's name
            kwargs["outlets"] = [mart_asset(mart, table, target_conn_id or target)]
        super().__init__(**kwargs)
        self.mart, self.marts_file, self.loader, self.source = mart, marts_file, loader, source
        self.target, self.target_conn_id, self.source_conn_id, self.plan = target, target_conn_id, source_conn_id, plan

    # ------------------------------------------------------------------ resolution
    def resolve(self) -> tuple[MartBase, str, Path | None, str | None]:
        """(spec, target URL, base folder for relative paths, state schema)."""
        from loaders.airflow.connections import connection_url

        base_dir, state_schema = None, None
        if self.loader is not None:
            spec, target = self.loader.spec, self.target
        else:
            project = load_project(self.marts_file or "")
            if self.mart not in project.marts:
                raise SpecError(f"no mart named {self.mart!r} in {self.marts_file}; marts: {', '.join(project.marts)}")
            spec, target = project.marts[self.mart], self.target or project.target
            base_dir, state_schema = project.base_dir, project.state_schema
        if self.target_conn_id:
            target = connection_url(self.target_conn_id)
        if not target:
            raise SpecError("no target: give target (a URL) or target_conn_id", mart=self.mart)
        if self.source_conn_id:
            if not isinstance(spec.source, QuerySource):
                raise SpecError("source_conn_id needs a `source: {query: ...}`", mart=self.mart)
            spec = spec.model_copy(
                update={"source": spec.source.model_copy(update={"url": connection_url(self.source_conn_id)})}
            )
        return spec, target, base_dir, state_schema

    # ------------------------------------------------------------------ the task
    def execute(self, context: Any) -> dict[str, Any]:
        from loaders.runner import load_mart

        ti = context.get("ti") or context.get("task_instance")
        batch_key = None
        if ti is not None:
            batch_key = f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{getattr(ti, 'map_index', -1)}"
        run_time = context.get("logical_date") or context.get("data_interval_end")
        if isinstance(run_time, datetime):  # SCD2 load times follow the run's logical date
            run_time = run_time.astimezone(timezone.utc).replace(tzinfo=None)
        params = context.get("params") or {}
        plan = _truthy(self.plan) or _truthy(params.get("plan", False))
        try:
            spec, target, base_dir, state_schema = self.resolve()
            result = load_mart(
                self.mart,
                spec,
                target,
                source=self.source,
                base_dir=base_dir,
                run_time=run_time if isinstance(run_time, datetime) else None,
                plan=plan,
                state_schema=state_schema,
                batch_key=None if plan else batch_key,
                strategy=self.loader,
            )
        except LoaderError as e:
            self.log.error("%s", e)
            if e.transient:
                raise  # a lock or a dropped connection: let Airflow retry
            raise AirflowFailException(str(e)) from None  # retrying cannot fix a spec or data error
        self.log.info(
            "%s %s (%s -> %s): inserted %d, updated %d, deleted %d, closed %d, unchanged %d, watermark %s, %.2fs%s",
            self.mart,
            result.status,
            result.strategy,
            result.table,
            result.inserted,
            result.updated,
            result.deleted,
            result.closed,
            result.unchanged,
            result.watermark_after,
            result.seconds,
            f" ({result.error})" if result.status == "skipped" else "",
        )
        for statement in result.sql:
            self.log.info("plan SQL: %s", statement)
        self.result = result
        return result.to_dict()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Lineage for Airflow's OpenLineage provider: the source as input (with the rows read), the
        mart's table as output (with the rows written); a plan or a skipped batch writes none."""
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.facet_v2 import input_statistics_input_dataset as read_stats
        from openlineage.client.facet_v2 import output_statistics_output_dataset as write_stats

        from loaders.lineage import source_datasets, table_dataset

        spec, target, base_dir, _ = self.resolve()
        result: LoadResult | None = getattr(self, "result", None)
        read: dict[str, Any] = {}
        written = 0
        if result is not None and result.status == "success":
            read = {"inputStatistics": read_stats.InputStatisticsInputDatasetFacet(rowCount=result.rows_in)}
            written = result.inserted + result.updated + result.deleted + result.closed
        datasets = source_datasets(spec.source, base_dir, target)
        inputs = [InputDataset(ns, name, inputFacets=read) for ns, name in datasets]
        namespace, name = table_dataset(target, spec.table or self.mart)
        output = OutputDataset(
            namespace,
            name,
            outputFacets={"outputStatistics": write_stats.OutputStatisticsOutputDatasetFacet(rowCount=written)},
        )
        return OperatorLineage(inputs=inputs, outputs=[output])
