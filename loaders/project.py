"""A marts file: one target, its marts and how Airflow schedules them. Read once at the edge into typed
models: ``${VAR}`` expanded, every mart validated by its strategy's options model, ``depends_on`` checked.
"""

from __future__ import annotations

import graphlib
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from loaders.errors import SpecError
from loaders.marts import STRATEGY_NAMES, MartSpec
from loaders.spec import MartBase, PostgresCDCSource, _Model, format_error, parse_interval, validate_options


class PrepareStep(_Model):
    """A command the DAG runs before its loads, e.g. the script that extracts or generates the source
    files. Relative paths resolve against the marts file's folder; ``python`` is the worker's Python."""

    command: list[str]
    #: skip the command when this path already exists (relative to the marts file)
    creates: str | None = None


class AirflowOptions(_Model):
    """How the DAG factory schedules a marts file: one DAG, one task per mart."""

    dag_id: str | None = None
    #: a cron expression or preset such as "@daily"; none means triggered by hand or by assets
    schedule: str | None = None
    start_date: date = date(2026, 1, 1)
    retries: int = Field(default=2, ge=0)
    retry_delay: timedelta = timedelta(minutes=5)
    catchup: bool = False
    max_active_runs: int = Field(default=1, ge=1)
    tags: list[str] = Field(default_factory=lambda: ["loaders"])
    #: a first task that makes the sources (when ``creates`` is missing)
    prepare: PrepareStep | None = None

    @field_validator("retry_delay", mode="before")
    @classmethod
    def _parse_delay(cls, value: Any) -> Any:
        parsed = parse_interval(value)
        return timedelta(seconds=parsed) if isinstance(parsed, (int, float)) else parsed


class Project(_Model):
    """A marts file: one target and the marts loaded into it."""

    target: str = "duckdb:///warehouse.duckdb"
    airflow: AirflowOptions = Field(default_factory=AirflowOptions)
    #: schema holding the watermark and run-log tables (default: the target's default schema)
    state_schema: str | None = None
    marts: dict[str, MartSpec]
    #: folder that relative paths in this project resolve against
    base_dir: Path = Field(default=Path("."), exclude=True)


def parse_mart(name: str, options: dict[str, Any]) -> MartBase:
    """Validate one mart's options; errors name the mart and the offending key."""
    spec: MartBase = validate_options(MartSpec, name, options, tags=STRATEGY_NAMES)
    return spec


def parse_project(data: Any, base_dir: Path | str = ".") -> Project:
    if not isinstance(data, dict):
        raise SpecError("a marts file must be a mapping with `target` and `marts`")
    marts = data.get("marts")
    if not isinstance(marts, dict) or not marts:
        raise SpecError("a marts file needs `marts:` mapping mart names to their options")
    parsed: dict[str, Any] = {}
    for name, options in marts.items():
        if not isinstance(options, dict):
            raise SpecError("options must be a mapping", mart=name)
        parsed[name] = parse_mart(str(name), options)
        if parsed[name].source is None:
            raise SpecError(
                "needs `source: {path: ...}`, `{query: ..., url: ...}` or `{postgres_cdc: {...}}`", mart=name
            )
    _one_slot_per_mart(parsed)
    mart_order(parsed)
    rest = {k: v for k, v in data.items() if k != "marts"}
    try:
        return Project.model_validate({**rest, "marts": parsed, "base_dir": Path(base_dir)})
    except ValidationError as e:
        raise SpecError(f"marts file: {format_error(e)}") from None


def _one_slot_per_mart(marts: dict[str, MartBase]) -> None:
    """Changes read from a replication slot for one mart are gone from it for any other mart."""
    seen: dict[tuple[str, str], str] = {}
    for name, spec in marts.items():
        if isinstance(spec.source, PostgresCDCSource):
            feed = spec.source.postgres_cdc
            other = seen.setdefault((feed.url, feed.slot), name)
            if other != name:
                raise SpecError(
                    f"replication slot {feed.slot!r} is also the source of mart {other!r}; changes read for one "
                    "mart are gone from the slot for the other: give each mart a slot of its own",
                    mart=name,
                )


def mart_order(marts: dict[str, MartBase]) -> list[str]:
    """Marts in an order where each comes after those it depends on; unknown names and cycles fail."""
    for name, spec in marts.items():
        unknown = [d for d in spec.depends_on if d not in marts]
        if unknown:
            raise SpecError(
                f"depends_on names unknown mart {unknown[0]!r}; marts in this file: {', '.join(marts)}", mart=name
            )
    try:
        return list(graphlib.TopologicalSorter({n: s.depends_on for n, s in marts.items()}).static_order())
    except graphlib.CycleError as e:
        cycle = list(reversed(e.args[1]))
        raise SpecError(f"depends_on forms a cycle: {' -> '.join(cycle)}", mart=cycle[0]) from None


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, where: str = "") -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in string values, so credentials stay out of the file."""
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise SpecError(
            f"{where}: environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
        )

    return _ENV.sub(one, value)


def load_project(path: str | Path) -> Project:
    """Read a marts YAML file; relative paths inside it resolve against its folder, and ``${VAR}``
    in any string value is taken from the environment."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SpecError(f"cannot read marts file {str(path)!r}: {e.strerror}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: ~10x faster
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(f"{path}: not valid YAML: {problem}{where}") from None
    return parse_project(expand_env(data), base_dir=path.resolve().parent)
