"""BigQuery: MERGE, UPDATE ... FROM, temp tables and multi-statement transactions, both of which
live in a *session*: every connection opens one (``create_session``) and runs its jobs in it.
Compiled by sqlalchemy-bigquery; not executed here."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Delete

from loaders.targets.columns import DATE
from loaders.targets.warehouse import WarehouseTarget


class BigQueryTarget(WarehouseTarget):
    backends: ClassVar[tuple[str, ...]] = ("bigquery",)
    commit_sql: ClassVar[str] = "COMMIT TRANSACTION"
    rollback_sql: ClassVar[str] = "ROLLBACK TRANSACTION"

    def create_engine(self, url: str) -> sa.Engine:
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _open_session)
        return engine

    def window_start(self, column: Any, grain: str, family: str) -> sa.ColumnElement[Any]:
        day = column if family == DATE else sa.cast(column, sa.Date())
        if grain == "day":
            return day
        return sa.func.date_trunc(day, sa.literal_column("MONTH"))  # DATE_TRUNC(date, MONTH)


def _open_session(dbapi_conn: Any, record: Any) -> None:
    """Temp tables and a transaction over several queries need a session: open one and make it the
    default of every query this connection's client runs."""
    from google.cloud import bigquery

    client = dbapi_conn._client
    job = client.query("SELECT 1", job_config=bigquery.QueryJobConfig(create_session=True))
    job.result()
    config = client.default_query_job_config or bigquery.QueryJobConfig()  # keeps the URL's default dataset
    config.connection_properties = [bigquery.ConnectionProperty("session_id", job.session_info.session_id)]
    client.default_query_job_config = config


@compiles(Delete, "bigquery")
def _delete_all(delete: Any, compiler: Any, **kw: Any) -> str:
    """BigQuery's DELETE needs a WHERE clause: deleting every row says ``WHERE true``."""
    if delete._where_criteria:
        return str(compiler.visit_delete(delete, **kw))
    return str(compiler.visit_delete(delete.where(sa.true()), **kw))
