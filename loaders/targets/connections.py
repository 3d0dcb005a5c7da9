"""How an adapter reaches its engine: the engine and its connections, the locks that serialise runs
of a mart, and the translation of driver errors into the package's errors by the driver's codes."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import sqlalchemy as sa

from loaders.errors import LoaderError, TargetError, TargetLocked, TransientTargetError, first_line
from loaders.urls import redact

log = logging.getLogger("loaders")

#: (target URL, mart) -> the lock threads of this process take to load that mart
_PROCESS_LOCKS: dict[tuple[str, str], threading.Lock] = {}


def lock_names(mart: str, table: str | None) -> list[tuple[str, str]]:
    """The locks a load takes, in order, each with what it means when another run holds it. The
    mart's lock is named by the mart alone, as before tables had locks, so an older version running
    at the same time still excludes it."""
    names = [(mart, "another run of this mart holds its lock")]
    if table is not None:
        names.append((f"table:{table.lower()}", f"another mart is loading table {table} (two marts on one table?)"))
    return names


class Connections:
    """The engine side of an adapter; :class:`loaders.targets.base.Target` builds on it."""

    #: how long a thread waits for another thread of this process loading the same mart
    thread_lock_seconds: ClassVar[float] = 300.0
    #: one writer at a time holds the whole database (a file): a run waits for it, up to lock_timeout
    waits_for_writer: ClassVar[bool] = False
    #: the database is one file with one writer at a time (DuckDB, SQLite): a run loads its marts one
    #: after another over one connection
    single_writer: ClassVar[bool] = False

    def __init__(self, url: str, lock_timeout: float = 300.0) -> None:
        self.url = url
        #: seconds a run waits for another writer of a single-writer file (``?loaders_lock_timeout=``)
        self.lock_timeout = lock_timeout
        self.engine = self.create_engine(url)
        #: things verified once per process (state tables exist), so later loads skip the queries
        self.checked: set[tuple[str, str | None]] = set()
        #: the connection :meth:`held` keeps open, and the thread it belongs to
        self._held: tuple[sa.Connection, int] | None = None

    def create_engine(self, url: str) -> sa.Engine:
        return sa.create_engine(url)

    @property
    def dialect(self) -> sa.Dialect:
        return self.engine.dialect

    def describe(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ connections and errors
    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        held = self._held
        if held is not None and held[1] == threading.get_ident():
            yield held[0]
            if held[0].in_transaction():  # a load leaves none open; never hand the next one a half
                held[0].rollback()
            return
        with self.translate_errors(), self._connect_waiting() as conn:
            yield conn

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Keep one connection open for the loads this thread makes inside the block: a run of many
        marts on a single-writer file opens it once instead of once per mart (on DuckDB, opening and
        closing the file was 17 ms of a tiny load's 44)."""
        with self.connect() as conn:
            self._held = (conn, threading.get_ident())
            try:
                yield
            finally:
                self._held = None

    def _connect_waiting(self) -> sa.Connection:
        """A connection; on a single-writer file held by another process, wait for it (logged), so
        tasks that run at once (Airflow's default parallelism) queue instead of failing."""
        self.before_connect()
        deadline, told = time.monotonic() + self.lock_timeout, 0.0
        while True:
            try:
                return self.engine.connect()
            except sa.exc.DBAPIError as e:
                waiting = self.waits_for_writer and self.classify(e.orig or e) is TargetLocked
                if not waiting or time.monotonic() >= deadline:
                    raise
                if time.monotonic() - told >= 10:
                    log.info("%s is held by another writer; waiting up to %.0f s", self.describe(), self.lock_timeout)
                    told = time.monotonic()
                time.sleep(0.25)

    def before_connect(self) -> None:
        """Make ready what a new connection needs (called before each one is opened, so cheap when
        there is nothing to do); nothing by default."""

    @contextlib.contextmanager
    def lock(self, conn: sa.Connection, mart: str, table: str | None = None) -> Iterator[None]:
        """Serialise runs of one mart, and of marts that write one table. The default relies on the
        engine's own (file) locking between processes, and a lock per database and name between
        threads of this process."""
        held: list[threading.Lock] = []
        try:
            for name, busy in lock_names(mart, table):
                lock = _PROCESS_LOCKS.setdefault((self.url, name), threading.Lock())
                if not lock.acquire(timeout=self.thread_lock_seconds):
                    raise TargetLocked(f"{busy} (another thread, for {self.thread_lock_seconds:.0f} s)", mart=mart)
                held.append(lock)
            yield
        finally:
            for lock in reversed(held):
                lock.release()

    @contextlib.contextmanager
    def server_lock(
        self,
        conn: sa.Connection,
        mart: str,
        acquire: str,
        release: str,
        params: list[dict[str, Any]],
        kind: str,
        table: str | None = None,
    ) -> Iterator[None]:
        """Hold named server-side locks for the whole run, the mart's and then its table's (two marts
        loading one table by mistake must not interleave): ``acquire`` returns true or fails fast."""
        held: list[dict[str, Any]] = []
        try:
            for (_, busy), p in zip(lock_names(mart, table), params, strict=True):
                with self.translate_errors(mart):
                    got = conn.execute(sa.text(acquire), p).scalar()
                    conn.commit()
                if not got:
                    raise TargetLocked(f"{busy} ({kind}); retry when it has finished", mart=mart)
                held.append(p)
            yield
        finally:
            with contextlib.suppress(Exception):
                if conn.in_transaction():
                    conn.rollback()
                for p in reversed(held):
                    conn.execute(sa.text(release), p)
                conn.commit()

    def classify(self, error: BaseException) -> type[TargetError]:
        """What a driver error means, read from the driver's error code (SQLSTATE, errno, ...):
        :class:`TargetLocked`, :class:`TransientTargetError` (a retry may succeed) or
        :class:`TargetError` (terminal). The portable path knows no codes, so every error is terminal
        unless SQLAlchemy saw the connection drop."""
        return TargetError

    @contextlib.contextmanager
    def translate_errors(self, mart: str | None = None) -> Iterator[None]:
        """Driver errors become the package's error tree, one readable line, password-free."""
        try:
            yield
        except LoaderError:
            raise
        except sa.exc.DBAPIError as e:
            orig = e.orig if e.orig is not None else e
            kind = TransientTargetError if e.connection_invalidated else self.classify(orig)
            raise kind(f"{self.describe()}: {first_line(orig)}", mart=mart) from e
        except sa.exc.SQLAlchemyError as e:
            raise TargetError(f"{self.describe()}: {first_line(e)}", mart=mart) from e
        except Exception as e:  # a driver error raised by its raw API (COPY, register), not wrapped
            dbapi = getattr(self.dialect, "loaded_dbapi", None)
            if dbapi is None or not isinstance(e, dbapi.Error):
                raise
            raise self.classify(e)(f"{self.describe()}: {first_line(e)}", mart=mart) from e
