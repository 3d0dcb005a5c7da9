"""One small exception hierarchy, so callers can tell a bad spec from bad data from a sick database.

The CLI prints ``str(error)`` as one line; Airflow retries only :class:`TransientTargetError`.
Every message names the mart and, where there is one, the column or option and the fix.
"""

from __future__ import annotations


class LoaderError(Exception):
    """Base of everything this package raises on purpose."""

    #: a retry may succeed (lock held, connection dropped); spec and data errors never do
    transient: bool = False

    def __init__(self, message: str, *, mart: str | None = None) -> None:
        self.mart = mart
        super().__init__(f"mart {mart}: {message}" if mart else message)

    def for_mart(self, mart: str) -> LoaderError:
        """This error naming ``mart``, if it names none yet (raised where the mart was not known)."""
        return self if self.mart else type(self)(str(self), mart=mart)


class SpecError(LoaderError):
    """The mart spec (YAML or Python options) is invalid."""


class SourceError(LoaderError):
    """The source could not be read (missing file, bad query, unreadable format)."""


class DataContractError(LoaderError):
    """The batch breaks a rule of its strategy: null or duplicate keys, a missing column, bad ops."""


class SchemaChangeError(DataContractError):
    """The source's columns no longer fit the existing target table."""


class UnsupportedByTarget(LoaderError):
    """The target engine cannot do what the spec asks; raised before any SQL runs."""


class TargetError(LoaderError):
    """The target database failed while loading; the transaction was rolled back."""


class TransientTargetError(TargetError):
    """A failure a retry can fix: a lock held by another run, a dropped connection."""

    transient = True


class TargetLocked(TransientTargetError):
    """Another run holds the lock on this mart (or the whole database file)."""


def first_line(error: BaseException) -> str:
    """A driver's message without its detail lines (or the class name when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
