"""A throwaway PostgreSQL cluster for tests that must not touch the shared server: one to stop mid-load,
or one with settings of its own (``wal_level=logical``). PostgreSQL's own ``initdb`` and ``pg_ctl``, run
as the ``postgres`` user in a temporary folder on a free port of 127.0.0.1; stopped and removed
afterwards, also when the test fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended and rolled back; ``immediate``: the server quits without cleanup."""
        self._ctl("-m", mode, "-w", "-t", "60", "stop")


def _as_postgres(cmd: list[str]) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def throwaway_postgres(settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a cluster; skip (with the reason) where PostgreSQL's server binaries are not installed."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql")
    folder = Path(tempfile.mkdtemp(prefix="loaders-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = Cluster(bindir, folder / "data", _free_port(), folder / "server.log")
        _as_postgres([str(bindir / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync"])
        with open(cluster.data / "postgresql.conf", "a") as conf:
            for key, value in (settings or {}).items():
                conf.write(f"{key} = '{value}'\n")
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(Exception):
                cluster.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
