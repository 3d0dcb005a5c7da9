"""Trino: MERGE (Iceberg, Delta Lake, Hive ACID catalogs), no temp tables (stages are plain tables in
the target schema, dropped when the load ends), no UPDATE ... FROM (written as a MERGE). Whether a
transaction can hold several writes is the catalog's affair: one that cannot refuses the second write
(NOT_SUPPORTED), the load rolls back, and the error says so. Compiled by trino's SQLAlchemy dialect;
not executed here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Update
from trino.sqlalchemy import datatype

from loaders.errors import UnsupportedByTarget, first_line
from loaders.targets.columns import TIMESTAMP, TIMESTAMPTZ, Column
from loaders.targets.warehouse import WarehouseTarget, update_as_merge


class TrinoTarget(WarehouseTarget):
    backends: ClassVar[tuple[str, ...]] = ("trino",)
    engine_options: ClassVar[dict[str, Any]] = {"isolation_level": "AUTOCOMMIT"}
    begin_sql: ClassVar[str] = "START TRANSACTION"
    temp_tables: ClassVar[bool] = False

    def column_for_arrow(self, name: str, t: pa.DataType) -> Column:
        """Trino's bare TIMESTAMP keeps milliseconds: cursors and history times need microseconds."""
        column = super().column_for_arrow(name, t)
        if column.family in (TIMESTAMP, TIMESTAMPTZ):
            return Column(name, datatype.TIMESTAMP(6, timezone=column.family == TIMESTAMPTZ), column.family)
        return column

    def timestamp_type(self) -> sa.types.TypeEngine[Any]:
        return datatype.TIMESTAMP(6)

    @contextlib.contextmanager
    def translate_errors(self, mart: str | None = None) -> Iterator[None]:
        try:
            with super().translate_errors(mart):
                yield
        except Exception as e:
            orig = getattr(e.__cause__, "orig", None)
            if not isinstance(orig, BaseException) or getattr(orig, "error_name", None) != "NOT_SUPPORTED":
                raise
            raise UnsupportedByTarget(
                f"{self.describe()}: {first_line(orig)} (a load commits its data, watermark and run log in one "
                "transaction; use a catalog whose connector allows several writes in one)",
                mart=mart,
            ) from e


@compiles(Update, "trino")
def _update(update: Any, compiler: Any, **kw: Any) -> str:
    return update_as_merge(update, compiler, **kw)
