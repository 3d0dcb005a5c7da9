"""Dialect SQL that SQLAlchemy Core has no construct for, written once and compiled per dialect.

- :class:`MergeInto`: ``MERGE INTO ... USING ... WHEN MATCHED AND <changed> THEN UPDATE ... WHEN NOT
  MATCHED THEN INSERT``. Its parts are compiled by the dialect's own compiler, so identifiers are quoted
  and values stay bound parameters (a string template would inline or lose them).
- :func:`on_conflict`: ``INSERT ... ON CONFLICT (keys) DO UPDATE ... WHERE <changed>``, shared by the
  PostgreSQL and SQLite adapters; :func:`on_duplicate_key`: MariaDB/MySQL's form.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable


def keys_match(left: sa.FromClause, right: sa.FromClause, keys: list[str]) -> sa.ColumnElement[bool]:
    """Composite keys compared column by column (never concatenated)."""
    return sa.and_(*(left.c[k] == right.c[k] for k in keys))


def any_distinct(left: sa.FromClause, right: sa.FromClause, cols: list[str]) -> sa.ColumnElement[bool]:
    """True when any column differs, NULL-safe (NULL vs NULL is equal)."""
    return sa.or_(*(left.c[c].is_distinct_from(right.c[c]) for c in cols))


class MergeInto(Executable, ClauseElement):
    """One MERGE: rows of ``source`` update the ``target`` rows with the same keys where a value
    differs, and are inserted where the key is new."""

    inherit_cache = False

    def __init__(self, target: sa.Table, source: sa.FromClause, keys: list[str], columns: list[str]) -> None:
        self.target, self.source = target.alias("t"), source.alias("s")
        self.keys, self.columns = keys, columns
        self.values = [c for c in columns if c not in keys]


@compiles(MergeInto)
def _compile_merge(merge: MergeInto, compiler: Any, **kw: Any) -> str:
    t, s, q = merge.target, merge.source, compiler.preparer.quote

    def sql(element: Any) -> str:
        return str(compiler.process(element, **kw))

    lines = [
        f"MERGE INTO {compiler.process(t, asfrom=True, **kw)} USING {compiler.process(s, asfrom=True, **kw)}",
        f"ON {sql(keys_match(t, s, merge.keys))}",
    ]
    if merge.values:
        sets = ", ".join(f"{q(c)} = {sql(s.c[c])}" for c in merge.values)
        lines.append(f"WHEN MATCHED AND ({sql(any_distinct(t, s, merge.values))}) THEN UPDATE SET {sets}")
    names = ", ".join(q(c) for c in merge.columns)
    values = ", ".join(sql(s.c[c]) for c in merge.columns)
    lines.append(f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})")
    return "\n".join(lines)


def on_conflict(stmt: Any, table: sa.Table, keys: list[str], values: list[str]) -> sa.Executable:
    """ON CONFLICT (keys) DO UPDATE only where a value differs (PostgreSQL's and SQLite's insert)."""
    if not values:
        return stmt.on_conflict_do_nothing(index_elements=keys)  # type: ignore[no-any-return]
    changed = sa.or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in values))
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=keys, set_={c: stmt.excluded[c] for c in values}, where=changed
    )


def on_duplicate_key(
    table: sa.Table, rows: sa.Select[Any], columns: list[str], keys: list[str], values: list[str]
) -> sa.Executable:
    """INSERT ... ON DUPLICATE KEY UPDATE (MariaDB/MySQL); with no values, a no-op update of a key.
    MySQL's dialect is imported here, not with the module: every load imports this module, and the
    dialect costs 15-35 ms of a DuckDB process's start-up that never uses it."""
    from sqlalchemy.dialects import mysql

    stmt = mysql.insert(table).from_select(columns, rows)
    return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in values} or {keys[0]: table.c[keys[0]]})
