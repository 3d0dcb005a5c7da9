"""Databricks SQL: MERGE, session temp tables (SQL warehouses), interactive transactions on Unity
Catalog managed tables with catalog commits (``BEGIN TRANSACTION`` ... ``COMMIT``), which hold only
SELECT/INSERT/MERGE/UPDATE/DELETE. No UPDATE ... FROM: such updates are written as a MERGE.
Compiled by databricks-sqlalchemy; not executed here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Update

from loaders.targets.warehouse import WarehouseTarget, update_as_merge

if TYPE_CHECKING:
    import sqlalchemy as sa


class DatabricksTarget(WarehouseTarget):
    backends: ClassVar[tuple[str, ...]] = ("databricks",)

    def temp_table_ddl(self, table: sa.Table) -> str:
        """The dialect ends CREATE TABLE with ``USING DELTA TBLPROPERTIES(...)``, which a temporary
        table refuses (it is Delta already): the DDL without that clause."""
        ddl = super().temp_table_ddl(table)
        return ddl[: ddl.index(") USING") + 1] if ") USING" in ddl else ddl


@compiles(Update, "databricks")
def _update(update: Any, compiler: Any, **kw: Any) -> str:
    return update_as_merge(update, compiler, **kw)
