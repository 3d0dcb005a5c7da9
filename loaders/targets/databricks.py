"""Databricks SQL: MERGE, session temp tables (SQL warehouses), interactive transactions on Unity
Catalog managed tables with catalog commits (``BEGIN TRANSACTION`` ... ``COMMIT``), which hold only
SELECT/INSERT/MERGE/UPDATE/DELETE. No UPDATE ... FROM: such updates are written as a MERGE.
Compiled by databricks-sqlalchemy; not executed here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Update

from loaders.targets.warehouse import WarehouseTarget, update_as_merge


class DatabricksTarget(WarehouseTarget):
    backends: ClassVar[tuple[str, ...]] = ("databricks",)

    def create_temp(self, conn: sa.Connection, table: sa.Table, keys: Sequence[str]) -> None:
        """The dialect ends CREATE TABLE with ``USING DELTA TBLPROPERTIES(...)``, which a temporary
        table refuses (it is Delta already): the DDL without that clause."""
        table._prefixes = self.temp_prefixes()
        self.remember(conn, table.name)
        ddl = str(sa.schema.CreateTable(table).compile(dialect=self.dialect))
        conn.exec_driver_sql(ddl[: ddl.index(") USING") + 1] if ") USING" in ddl else ddl)


@compiles(Update, "databricks")
def _update(update: Any, compiler: Any, **kw: Any) -> str:
    return update_as_merge(update, compiler, **kw)
