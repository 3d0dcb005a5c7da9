"""Tables and columns as every layer sees them: names, SQL types and type families.

No Arrow and no engine here, so the spec, the strategies and ``loaders validate`` can use these
without importing pyarrow or a driver.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# Families decide whether a source column may go into an existing target column.
INTEGER, FLOAT, DECIMAL, STRING, BOOLEAN = "integer", "float", "decimal", "string", "boolean"
DATE, TIMESTAMP, TIMESTAMPTZ, TIME = "date", "timestamp", "timestamptz", "time"
INTERVAL, BINARY, NESTED, NULL, OTHER = "interval", "binary", "nested", "null", "other"

#: source family -> target families it may be written into besides its own
WIDENINGS: dict[str, set[str]] = {
    INTEGER: {FLOAT, DECIMAL},
    DECIMAL: {FLOAT},
    DATE: {TIMESTAMP, TIMESTAMPTZ},
}


def fits(source_family: str, target_family: str) -> bool:
    return source_family in (target_family, NULL) or target_family in WIDENINGS.get(source_family, set())


@dataclass(frozen=True)
class TableRef:
    """A possibly schema-qualified table name; never pre-quoted, the dialect quotes it."""

    name: str
    schema: str | None = None

    @classmethod
    def parse(cls, text: str, default_schema: str | None = None) -> TableRef:
        schema, _, name = text.rpartition(".")
        return cls(name=name, schema=schema or default_schema)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class Column:
    """A column as the adapter knows it: its DDL type and the family used for compatibility checks."""

    name: str
    type: sa.types.TypeEngine[Any]
    family: str


class RawType(sa.types.UserDefinedType[Any]):
    """An engine's own type name, passed through verbatim (keeps DECIMAL(18,3), STRUCT(...), ...)."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec


def sa_family(t: sa.types.TypeEngine[Any]) -> str:
    """The family of a reflected SQLAlchemy type."""
    checks: list[tuple[type[Any], str]] = [
        (sa.Boolean, BOOLEAN),
        (sa.Integer, INTEGER),
        (sa.Float, FLOAT),
        (sa.Numeric, DECIMAL),
        (sa.DateTime, TIMESTAMP),
        (sa.Date, DATE),
        (sa.Time, TIME),
        (sa.Interval, INTERVAL),
        (sa.String, STRING),
        (sa.LargeBinary, BINARY),
        (sa.JSON, NESTED),
        (sa.types.NullType, NULL),
    ]
    for cls, family in checks:
        if isinstance(t, cls):
            if family == TIMESTAMP and getattr(t, "timezone", False):
                return TIMESTAMPTZ
            return family
    return OTHER


def digest(text: str) -> bytes:
    """A stable hash for names loaders derives (index names, lock keys): the same in every process."""
    return hashlib.sha1(text.encode()).digest()


#: ``Connection.info`` flag set while a target reads metadata, so a plan records only the load's own SQL
INTROSPECTING = "loaders_introspecting"


@contextlib.contextmanager
def introspecting(conn: sa.Connection) -> Iterator[None]:
    """Mark the statements run inside as metadata queries (describing tables), not part of the load."""
    before = conn.info.get(INTROSPECTING, False)
    conn.info[INTROSPECTING] = True
    try:
        yield
    finally:
        conn.info[INTROSPECTING] = before
