"""What the cloud warehouses (Snowflake, BigQuery, Databricks, Trino) share, and where they differ
from the engines the suite executes on.

- **DDL stays out of the load's transaction.** Snowflake commits the open transaction at any DDL,
  BigQuery allows only temp-table DDL in one, Databricks only SELECT/INSERT/MERGE/UPDATE/DELETE. So
  the driver runs in autocommit mode for the staging and DDL steps, and the runner's first durable
  write opens an explicit transaction (``BEGIN TRANSACTION`` / ``START TRANSACTION``) that holds
  exactly the data, the watermark, the batch claim and the run log, closed by ``COMMIT``.
- **Temp tables dropped after the transaction**: a DROP inside it would be DDL. Every temp table a
  load makes is remembered on the connection and dropped when the load ends, failed or not
  (warehouse sessions are pooled; a leftover stage would live as long as the session).
- **MERGE INTO** is the default merge method; ``UPDATE ... FROM`` (Snowflake, BigQuery) or a
  MERGE that only updates (Databricks, Trino) where a strategy updates from the batch.
- No indexes (none of them has secondary indexes) and no upsert syntax.

Serialising runs: none of them has an advisory lock or enforces a primary key, so two processes
loading one mart at once are not excluded by the target (threads of one process are). Run a mart from
one scheduler (Airflow: one active run per DAG) on these targets.

These adapters are tested by compilation (golden SQL in ``tests/golden``), not by execution: the
suite has no warehouse to run them on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa

from loaders.errors import TargetError, TransientTargetError
from loaders.targets.base import Staged, Target

#: conn.info keys: the explicit write transaction is open; temp tables this load made
WRITING, TEMPS = "loaders_writing", "loaders_temps"


class WarehouseTarget(Target):
    ddl_is_transactional: ClassVar[bool] = False
    supports_merge: ClassVar[bool] = True
    default_merge_method: ClassVar[str] = "merge"
    indexes_keys: ClassVar[bool] = False
    stages_queries_in_place: ClassVar[bool] = True
    #: the statements that open and commit the write transaction, and undo it
    begin_sql: ClassVar[str] = "BEGIN TRANSACTION"
    commit_sql: ClassVar[str] = "COMMIT"
    rollback_sql: ClassVar[str] = "ROLLBACK"
    #: the engine has session-scoped temporary tables (Trino has none: its stages are plain tables)
    temp_tables: ClassVar[bool] = True
    #: engine options that put the driver in autocommit mode (the transaction is explicit SQL)
    engine_options: ClassVar[dict[str, Any]] = {}

    def create_engine(self, url: str) -> sa.Engine:
        return sa.create_engine(url, **self.engine_options)

    # ------------------------------------------------------------------ the write transaction
    def begin_writes(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql(self.begin_sql)
        conn.info[WRITING] = True

    def commit_writes(self, conn: sa.Connection) -> None:
        if conn.info.pop(WRITING, False):
            conn.exec_driver_sql(self.commit_sql)

    def end_writes(self, conn: sa.Connection) -> None:
        """Roll back a write transaction a failure left open, then drop what the load staged."""
        try:
            if conn.info.pop(WRITING, False):
                conn.exec_driver_sql(self.rollback_sql)
        finally:
            for name in conn.info.pop(TEMPS, []):
                conn.exec_driver_sql(f"{self.drop_temp_sql()} {self.dialect.identifier_preparer.quote(name)}")

    def classify(self, error: BaseException) -> type[TargetError]:
        """SQLSTATE classes where the drivers give one: 08 (connection), 40 (serialization, deadlock)
        and 57 (operator intervention) can succeed on a retry; anything else is terminal."""
        state = str(getattr(error, "sqlstate", None) or "")
        return TransientTargetError if state[:2] in ("08", "40", "57") else TargetError

    # ------------------------------------------------------------------ temp tables
    def remember(self, conn: sa.Connection, name: str) -> None:
        conn.info.setdefault(TEMPS, []).append(name)

    def temp_prefixes(self) -> list[str]:
        return ["TEMPORARY"] if self.temp_tables else []

    def create_temp(self, conn: sa.Connection, table: sa.Table, keys: Sequence[str]) -> None:
        table._prefixes = self.temp_prefixes()
        self.remember(conn, table.name)
        conn.exec_driver_sql(self.temp_table_ddl(table))

    def temp_table_ddl(self, table: sa.Table) -> str:
        """CREATE [TEMPORARY] TABLE for a stage, as the dialect writes it."""
        return str(sa.schema.CreateTable(table).compile(dialect=self.dialect))

    def create_temp_as(
        self, conn: sa.Connection, name: str, select: sa.Select[Any], keys: Sequence[str] = ()
    ) -> sa.Table:
        create = sa.CreateTableAs(select, name, temporary=self.temp_tables)
        self.remember(conn, name)
        conn.execute(create)
        return create.table

    def stage_query(
        self, conn: sa.Connection, query: str, params: dict[str, Any], name: str, keys: Sequence[str] = ()
    ) -> Staged:
        """``CREATE TEMPORARY TABLE stage AS <query>``: the warehouse's normal path, no row leaves it."""
        quoted = self.dialect.identifier_preparer.quote(name)
        create = "CREATE TEMPORARY TABLE" if self.temp_tables else "CREATE TABLE"
        self.remember(conn, name)
        conn.execute(sa.text(f"{create} {quoted} AS {query}").bindparams(**params))
        return self.described_stage(conn, name, keys)

    def drop_temp(self, conn: sa.Connection, table: sa.Table) -> None:
        """Inside the write transaction a DROP would be DDL: left to :meth:`end_writes`."""
        if conn.info.get(WRITING):
            return
        temps = conn.info.get(TEMPS, [])
        if table.name in temps:
            temps.remove(table.name)
        super().drop_temp(conn, table)


def update_as_merge(update: Any, compiler: Any, **kw: Any) -> str:
    """``UPDATE t SET c = b.c ... FROM b WHERE cond`` where the engine has no UPDATE ... FROM
    (Databricks, Trino): ``MERGE INTO t USING b ON cond WHEN MATCHED THEN UPDATE SET c = b.c``. The
    same rows change: a batch has one row per key, so no target row matches twice (MERGE would refuse)."""
    state = update._compile_state_factory(update, compiler, **kw)
    extra = list(state._extra_froms)
    if not extra:
        return str(compiler.visit_update(update, **kw))
    if len(extra) > 1:
        raise sa.exc.CompileError("an UPDATE from more than one table cannot be written as one MERGE")
    target, source = update.table, extra[0]

    def sql(element: Any) -> str:
        return str(compiler.process(element, **kw))

    condition = sql(sa.and_(*update._where_criteria))
    sets = ", ".join(
        f"{compiler.preparer.quote(col if isinstance(col, str) else col.name)} = {sql(value)}"
        for col, value in update._values.items()
    )
    into, using = compiler.process(target, asfrom=True, **kw), compiler.process(source, asfrom=True, **kw)
    return f"MERGE INTO {into} USING {using}\nON {condition}\nWHEN MATCHED THEN UPDATE SET {sets}"
