"""Snowflake: MERGE, UPDATE ... FROM, session temp tables; DDL commits, so it runs before the load's
explicit transaction (see ``warehouse.py``). Compiled by snowflake-sqlalchemy; not executed here."""

from __future__ import annotations

from typing import Any, ClassVar

from loaders.targets.warehouse import WarehouseTarget


class SnowflakeTarget(WarehouseTarget):
    backends: ClassVar[tuple[str, ...]] = ("snowflake",)
    #: the dialect turns the connector's autocommit on; the write transaction is explicit SQL
    engine_options: ClassVar[dict[str, Any]] = {"isolation_level": "AUTOCOMMIT"}
