"""Arrow types <-> SQL types: what a staged column becomes, and what an all-NULL column stages as.

Adapters refine :func:`arrow_to_sa` for their engine (``Target.column_for_arrow``); everything here is
the portable mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from loaders.errors import LoaderError
from loaders.lazy import lazy
from loaders.targets.columns import (
    BINARY,
    BOOLEAN,
    DATE,
    DECIMAL,
    FLOAT,
    INTEGER,
    INTERVAL,
    NESTED,
    NULL,
    OTHER,
    STRING,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    Column,
)

if TYPE_CHECKING:
    import pyarrow as pa
else:
    pa = lazy("pyarrow")


def arrow_family(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return arrow_family(t.value_type)
    if pa.types.is_timestamp(t):
        return TIMESTAMPTZ if t.tz else TIMESTAMP
    checks = [
        (pa.types.is_null, NULL),
        (pa.types.is_boolean, BOOLEAN),
        (pa.types.is_integer, INTEGER),
        (pa.types.is_floating, FLOAT),
        (pa.types.is_decimal, DECIMAL),
        (pa.types.is_date, DATE),
        (pa.types.is_time, TIME),
        (pa.types.is_duration, INTERVAL),
        (lambda x: pa.types.is_string(x) or pa.types.is_large_string(x) or pa.types.is_string_view(x), STRING),
        (lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x) or pa.types.is_fixed_size_binary(x), BINARY),
        (lambda x: pa.types.is_nested(x), NESTED),
    ]
    for check, family in checks:
        if check(t):
            return family
    return OTHER


def arrow_to_sa(t: pa.DataType) -> sa.types.TypeEngine[Any]:
    """A portable SQLAlchemy type for an Arrow type; adapters refine it for their engine."""
    if pa.types.is_dictionary(t):
        return arrow_to_sa(t.value_type)
    if pa.types.is_timestamp(t):
        return sa.DateTime(timezone=t.tz is not None)
    if pa.types.is_decimal(t):
        return sa.Numeric(t.precision, t.scale)
    if pa.types.is_integer(t):
        if t.bit_width <= 16 and pa.types.is_signed_integer(t):
            return sa.SmallInteger()
        if t.bit_width <= 32 and pa.types.is_signed_integer(t):
            return sa.Integer()
        return sa.BigInteger() if t.bit_width < 64 or pa.types.is_signed_integer(t) else sa.Numeric(20, 0)
    family = arrow_family(t)
    if family == FLOAT:
        return sa.Float() if t.bit_width <= 32 else sa.Double()
    simple: dict[str, sa.types.TypeEngine[Any]] = {
        BOOLEAN: sa.Boolean(),
        DATE: sa.Date(),
        TIME: sa.Time(),
        INTERVAL: sa.Interval(),
        STRING: sa.Text(),
        BINARY: sa.LargeBinary(),
        NULL: sa.Text(),
        NESTED: sa.JSON(),
    }
    if family in simple:
        return simple[family]
    raise LoaderError(f"no column type for Arrow type {t}")


def arrow_type(column: Column) -> pa.DataType:
    """An Arrow type that stages as the given target column (for columns that arrive all NULL)."""
    if column.family == DECIMAL and isinstance(column.type, sa.Numeric) and column.type.precision:
        return pa.decimal128(column.type.precision, column.type.scale or 0)
    simple = {
        INTEGER: pa.int64(),
        FLOAT: pa.float64(),
        DECIMAL: pa.float64(),
        BOOLEAN: pa.bool_(),
        DATE: pa.date32(),
        TIMESTAMP: pa.timestamp("us"),
        TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
        TIME: pa.time64("us"),
        INTERVAL: pa.duration("us"),
        BINARY: pa.binary(),
    }
    return simple.get(column.family, pa.string())
