"""Target and source URLs: relative DuckDB/SQLite paths resolve against the marts file's folder."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from loaders.errors import SpecError


def resolve_url(url: str, base_dir: Path | None) -> str:
    """Make ``duckdb:///warehouse.duckdb`` point next to the marts file, not the current directory."""
    parsed = parse_url(url)
    if parsed.get_backend_name() in ("duckdb", "sqlite") and parsed.database and base_dir is not None:
        db = parsed.database
        if db != ":memory:" and not Path(db).is_absolute():
            return parsed.set(database=str((base_dir / db).resolve())).render_as_string(hide_password=False)
    return url


def parse_url(url: str) -> sa.URL:
    """A SQLAlchemy URL, or a SpecError that shows the URL without its password."""
    try:
        return sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError) as e:
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))
        detail = str(e).replace(str(url), shown)
        raise SpecError(f"{shown!r} is not a SQLAlchemy URL such as duckdb:///warehouse.duckdb ({detail})") from None


def redact(url: str) -> str:
    """The URL as it may be shown in a log, an error, a plan or the run log: no password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


def same_database(a: str, b: str) -> bool:
    """Whether two URLs reach one database (driver, password and options aside): a query source on
    the target's own database runs inside it instead of being read out and staged back."""
    x, y = parse_url(a), parse_url(b)
    if x.get_backend_name() in ("duckdb", "sqlite") and x.database and y.database:
        same_file = x.database == y.database or (
            x.database != ":memory:" and Path(x.database).resolve() == Path(y.database).resolve()
        )
        return x.get_backend_name() == y.get_backend_name() and same_file
    parts = ("host", "port", "database", "username")
    return x.get_backend_name() == y.get_backend_name() and all(getattr(x, p) == getattr(y, p) for p in parts)
