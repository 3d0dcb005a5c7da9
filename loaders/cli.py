"""The ``loaders`` command: run / plan / history / validate a marts file.

Thin on purpose: it parses the file, calls the runner and prints. Errors are one line on stderr with
a non-zero exit (1: a load failed, 2: the spec is invalid); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loaders.errors import LoaderError, SpecError
from loaders.result import LoadResult

if TYPE_CHECKING:
    from loaders.project import Project

#: named in --help without importing the strategies (and SQLAlchemy); a test keeps it equal to STRATEGIES
STRATEGY_LIST = "full, append, merge, scd1, scd2, cdc, overwrite_window, snapshot"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=f"Load data marts with the right strategy ({STRATEGY_LIST}).",
)
out = Console()
err = Console(stderr=True)

MartsFile = Annotated[Path, typer.Argument(help="The marts YAML file.", show_default=False)]
MartOpt = Annotated[list[str] | None, typer.Option("--mart", "-m", help="Only this mart (repeatable).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as JSON lines.")]
DEBUG = {"on": False}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"loaders {version('loaders')}", highlight=False)
        except PackageNotFoundError:  # pragma: no cover - a source tree without an install
            from loaders import __version__

            out.print(f"loaders {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    DEBUG["on"] = debug


def _fail(error: BaseException, code: int) -> None:
    if DEBUG["on"]:
        err.print_exception()
    err.print(f"[red]error:[/red] {escape(str(error))}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _project(path: Path) -> Project:
    from loaders.project import load_project

    try:
        return load_project(path)
    except SpecError as e:
        _fail(e, 2)
        raise  # unreachable


def _fmt(value: Any) -> str:
    return "" if value is None else value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)


def _summary(name: str, outcome: LoadResult | LoaderError) -> str:
    if isinstance(outcome, LoaderError):
        return f"[red]✗ {escape(name)}[/red]  {escape(str(outcome).removeprefix(f'mart {name}: '))}"
    r = outcome
    parts = [f"{k} {getattr(r, k)}" for k in ("inserted", "updated", "deleted", "closed", "unchanged")]
    wm = f"  watermark {_fmt(r.watermark_after)}" if r.watermark_after is not None else ""
    mark = "[green]✓[/green]" if r.status == "success" else "[cyan]~[/cyan]"
    warned = [c for c in r.checks if c["status"] == "warn"]
    warnings = "".join(f"\n    [yellow]! {escape(c['name'])}: {escape(c['detail'])}[/yellow]" for c in warned)
    skipped = f"  [dim]({escape(r.error or '')})[/dim]" if r.status == "skipped" else ""
    where = f"{escape(name)} ({r.strategy} → {escape(r.table)})"
    return f"{mark} {where}  {', '.join(parts)}{wm}  {r.seconds:.2f}s{skipped}{warnings}"


def _run(
    path: Path,
    marts: list[str] | None,
    plan: bool,
    as_json: bool,
    show_sql: bool,
    window: tuple[str, str] | None = None,
    jobs: int = 1,
) -> None:
    from loaders.runner import run_project

    project = _project(path)

    def report(name: str, outcome: LoadResult | LoaderError) -> None:
        if as_json:
            data = (
                outcome.to_dict()
                if isinstance(outcome, LoadResult)
                else {"mart": name, "status": "failed", "error": str(outcome)}
            )
            out.print_json(json.dumps(data)) if sys.stdout.isatty() else print(json.dumps(data))
            return
        out.print(_summary(name, outcome), highlight=False, soft_wrap=True)
        if plan and show_sql and isinstance(outcome, LoadResult):
            for statement in outcome.sql:
                out.print(f"    [dim]{escape(statement)};[/dim]", highlight=False, soft_wrap=True)

    from loaders.progress import listening

    try:
        with err.status("loading…" if not plan else "planning…", spinner="dots") as status:
            reading = _Reading(status.update, "planning" if plan else "loading")

            def finished(name: str, outcome: LoadResult | LoaderError) -> None:
                reading.done(name)
                report(name, outcome)

            with listening(reading.rows):
                results = run_project(project, marts, plan=plan, on_result=finished, window=window, jobs=jobs)
    except LoaderError as e:
        _fail(e, 2 if isinstance(e, SpecError) else 1)
        return
    failed = [r for r in results if isinstance(r, LoaderError)]
    if failed:
        err.print(f"[red]{len(failed)} of {len(results)} marts failed[/red]")
        raise typer.Exit(1)


class _Reading:
    """The status line on a terminal (rich shows none when piped): rows read and rows/s of each mart
    being loaded, refreshed at most five times a second."""

    def __init__(self, show: Callable[[str], None], verb: str) -> None:
        self.show, self.verb = show, verb
        self.marts: dict[str, tuple[float, int]] = {}  # mart -> (started, rows read)
        self.shown = 0.0
        self.lock = threading.Lock()

    def rows(self, mart: str, rows: int) -> None:
        now = time.monotonic()
        with self.lock:
            started, seen = self.marts.get(mart, (now, 0))
            self.marts[mart] = (started, seen + rows)
            if now - self.shown < 0.2:
                return
            self.shown = now
            parts = [f"{m}: {n:,} rows read ({n / max(now - t, 1e-3):,.0f} rows/s)" for m, (t, n) in self.marts.items()]
        self.show(f"{self.verb} " + "; ".join(parts))

    def done(self, mart: str) -> None:
        with self.lock:
            self.marts.pop(mart, None)
            left = ", ".join(self.marts)
        self.show(f"{self.verb} {left}…" if left else f"{self.verb}…")


FromOpt = Annotated[str | None, typer.Option("--from", help="Backfill: reload rows with cursor >= this.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Backfill: ... and cursor < this.")]


def _window(start: str | None, end: str | None) -> tuple[str, str] | None:
    if (start is None) != (end is None):
        _fail(SpecError("--from and --to go together (the window is [from, to))"), 2)
    if start is None or end is None:
        return None
    first, last = _comparable(start), _comparable(end)
    if type(first) is type(last) and first >= last:  # the load checks again in the column's own type
        _fail(SpecError(f"--from {start} is not before --to {end}: the window [from, to) would be empty"), 2)
    return start, end


def _comparable(text: str) -> Any:
    """A --from/--to value as a number or a timestamp where it reads as one, else the text."""
    for parse in (int, float, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", min=1, help="Load up to N independent marts at once (a DuckDB or SQLite file: one at a time)."
    ),
]


@app.command()
def run(
    path: MartsFile,
    mart: MartOpt = None,
    as_json: JsonOpt = False,
    start: FromOpt = None,
    end: ToOpt = None,
    jobs: JobsOpt = 1,
) -> None:
    """Load every mart in the file (or the --mart ones); exit 1 if any failed.

    With --from/--to, reload that window of each mart's cursor (or partition_by) column instead of
    reading past the watermark; rows already loaded are replaced or skipped, never duplicated.
    """
    _run(path, mart, plan=False, as_json=as_json, show_sql=False, window=_window(start, end), jobs=jobs)


@app.command()
def plan(
    path: MartsFile,
    mart: MartOpt = None,
    as_json: JsonOpt = False,
    sql: Annotated[bool, typer.Option("--sql/--no-sql", help="Show the SQL.")] = True,
) -> None:
    """Show what a run would do (row counts and SQL) without changing anything."""
    _run(path, mart, plan=True, as_json=as_json, show_sql=sql)


@app.command("reset-watermark")
def reset_watermark(
    path: MartsFile,
    mart: Annotated[str, typer.Option("--mart", "-m", help="The mart whose watermark to reset.")],
    to: Annotated[str | None, typer.Option(help="Set it to this value instead of clearing it.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Clear (or set) a mart's watermark; the next run re-reads from there. Logged in the run log."""
    from loaders.state import reset_watermark as reset
    from loaders.targets import open_target
    from loaders.urls import resolve_url

    project = _project(path)
    if mart not in project.marts:
        _fail(SpecError(f"no mart named {mart!r}; marts in this file: {', '.join(project.marts)}"), 2)
    if not project.marts[mart].cursor_column:
        _fail(SpecError(f"strategy {project.marts[mart].strategy!r} keeps no watermark", mart=mart), 2)
    if not yes and not typer.confirm(f"Reset the watermark of {mart} to {to or 'nothing (reload everything)'}?"):
        raise typer.Exit(1)
    try:
        target = open_target(resolve_url(project.target, project.base_dir))
        before, after = reset(target, project, mart, to)
        target.close()
    except LoaderError as e:
        _fail(e, 1)
        return
    shown = [escape(_fmt(v) or "(none)") for v in (before, after)]
    out.print(f"{escape(mart)}: watermark {shown[0]} → {shown[1]}", highlight=False)


@app.command("compare")
def compare_cmd(
    folder: Annotated[Path, typer.Argument(help="A scenario folder with a scenario.py (e.g. examples/ecommerce).")],
    days: Annotated[int, typer.Option(help="Days of source history to simulate.")] = 14,
    png: Annotated[Path | None, typer.Option(help="Where to write the chart (default: FOLDER/compare.png).")] = None,
) -> None:
    """Load one simulated history with every strategy and score each against the ground truth."""
    from loaders.compare import compare, write_chart

    try:
        with err.status(f"loading {days} days with every strategy…", spinner="dots"):
            scores = compare(folder, days, folder / ".compare")
    except LoaderError as e:
        _fail(e, 2)
        return
    table = Table(
        "strategy",
        "true rows present",
        "history",
        "deletes missed",
        "late change caught",
        "duplicates (worst day)",
        "rows stored",
        "seconds",
        "failed days",
        title=f"{folder.name}: {days} days",
    )
    for s in scores:
        table.add_row(
            s.strategy,
            f"{s.correct_now:.0%}",
            "no" if s.history is None else f"{s.history:.0%}",
            str(s.deletes_missed),
            {True: "yes", False: "no", None: "-"}[s.late_caught],
            str(s.duplicates),
            str(s.rows_stored),
            f"{s.seconds:.2f}",
            ", ".join(map(str, s.failed_days)) or "-",
        )
    Console(width=max(out.width, 170)).print(table)
    chart = png or folder / "compare.png"
    try:
        write_chart(scores, chart)
        out.print(f"chart: {chart}", highlight=False)
    except ImportError:
        out.print("(install matplotlib for the chart: pip install 'loaders[playground]')", highlight=False)


@app.command()
def validate(path: MartsFile) -> None:
    """Check the marts file only: options, strategies, required keys. Touches no database."""
    project = _project(path)
    for name, spec in project.marts.items():
        out.print(f"[green]✓[/green] {escape(name)}: {spec.strategy} → {escape(spec.table or name)}", highlight=False)
    out.print(f"{len(project.marts)} marts valid", highlight=False)


@app.command()
def history(
    path: MartsFile,
    mart: MartOpt = None,
    limit: Annotated[int, typer.Option(help="Most recent N runs.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Print the run log kept in the target."""
    from loaders.state import State
    from loaders.targets import open_target
    from loaders.urls import resolve_url

    project = _project(path)
    try:
        target = open_target(resolve_url(project.target, project.base_dir))
        with target.connect() as conn:
            rows: list[dict[str, Any]] = []
            for name in mart or [None]:  # type: ignore[list-item]
                rows += State(target, project.state_schema).history(conn, name, limit)
        target.close()
    except LoaderError as e:
        _fail(e, 1)
        return
    rows.sort(key=lambda r: r["started_at"], reverse=True)
    if as_json:
        for r in rows[:limit]:
            print(json.dumps({k: _fmt(v) if v is not None else None for k, v in r.items()}))
        return
    table = Table(
        "started (UTC)", "mart", "strategy", "status", "in", "ins", "upd", "del", "closed", "watermark", "s", "error"
    )
    for r in rows[:limit]:
        secs = (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else None
        style = "red" if r["status"] == "failed" else None
        table.add_row(
            _fmt(r["started_at"])[:19],
            r["mart"],
            r["strategy"],
            r["status"],
            *(_fmt(r[k]) for k in ("rows_in", "inserted", "updated", "deleted", "closed")),
            _fmt(r["watermark_after"]),
            f"{secs:.2f}" if secs is not None else "",
            (r["error"] or "")[:80],
            style=style,
        )
    Console(width=max(out.width, 150)).print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        err.print("interrupted; the running load was rolled back")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
