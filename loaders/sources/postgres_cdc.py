"""A live PostgreSQL table as a change feed, through logical replication (no Kafka, no Debezium).

Why pgoutput through ``pg_logical_slot_peek_binary_changes``: pgoutput ships with PostgreSQL (no
wal2json to install), filters by publication, and sends each relation's column types; the SQL
function *peeks*, so changes stay in the slot until the target has committed them, and the slot is
advanced (``pg_replication_slot_advance``) only then. A crash in between re-delivers the changes;
their positions are at or below the mart's watermark and the load skips them.

- Position (the mart's sequence and watermark): the transaction's commit LSN, then the change's place
  in the transaction, as a fixed-width string. Decoding delivers transactions in commit order, so a
  transaction that began before a run and committed after it sorts after everything that run saw.
- First run: the slot is created over a replication connection with ``EXPORT_SNAPSHOT`` and the rows
  already in the table are copied under that snapshot, as snapshot reads (op r) at the slot's
  consistent point: every later change is in the slot, none is in both.
- Updates that change the key become a delete of the old key and an insert of the new one.
- A TOAST value an update leaves unchanged is not sent. It comes from the old image (REPLICA IDENTITY
  FULL) or the key's earlier change in the same read; otherwise ``__unchanged`` names the column and
  the strategy keeps the value the target has.
"""

from __future__ import annotations

import contextlib
import logging
import struct
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa

from loaders.errors import SourceError
from loaders.sources.base import Pushdown, Source
from loaders.spec import FEED_OP, FEED_POSITION, FEED_TIME, FEED_UNCHANGED

log = logging.getLogger("loaders")
PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
#: rows per batch of the first run's copy
COPY_ROWS = 50_000


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def position(commit_lsn: int, index: int) -> str:
    return f"p{commit_lsn:020d}{index:020d}"


# ------------------------------------------------------------------------------------------ types
def _numeric(typmod: int) -> pa.DataType:
    if typmod < 4:
        return pa.decimal128(38, 10)  # unconstrained numeric
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return pa.decimal128(max(precision, 1), scale)


def _bytea(text: str) -> bytes:
    return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()


#: type OID -> (Arrow type from typmod, text value -> Python value)
TYPES: dict[int, tuple[Callable[[int], pa.DataType], Callable[[str], Any]]] = {
    16: (lambda _: pa.bool_(), lambda v: v == "t"),
    20: (lambda _: pa.int64(), int),
    21: (lambda _: pa.int16(), int),
    23: (lambda _: pa.int32(), int),
    700: (lambda _: pa.float32(), float),
    701: (lambda _: pa.float64(), float),
    1700: (_numeric, Decimal),
    1082: (lambda _: pa.date32(), date.fromisoformat),
    1083: (lambda _: pa.time64("us"), time.fromisoformat),
    1114: (lambda _: pa.timestamp("us"), datetime.fromisoformat),
    1184: (lambda _: pa.timestamp("us", "UTC"), datetime.fromisoformat),
    17: (lambda _: pa.binary(), _bytea),
}
TEXT: tuple[Callable[[int], pa.DataType], Callable[[str], Any]] = (lambda _: pa.string(), str)


class Relation:
    """A table as pgoutput describes it: columns with type OIDs, and which form the replica identity."""

    def __init__(self, schema: str, name: str, columns: list[tuple[str, int, int, bool]]) -> None:
        self.schema, self.name, self.columns = schema, name, columns

    @property
    def key(self) -> list[str]:
        return [name for name, _, _, is_key in self.columns if is_key]


# ------------------------------------------------------------------------------------- pgoutput
class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value[0] if len(value) == 1 else value

    def string(self) -> str:
        end = self.data.index(b"\0", self.at)
        text = self.data[self.at : end].decode()
        self.at = end + 1
        return text

    def tuple(self) -> list[Any]:
        """TupleData: 'n' NULL, 'u' unchanged TOAST value (not sent), 't' text."""
        values: list[Any] = []
        for _ in range(self.take(">h")):
            kind = self.take(">c")
            if kind == b"n":
                values.append(None)
            elif kind == b"u":
                values.append(UNCHANGED)
            else:
                length = self.take(">i")
                values.append(self.data[self.at : self.at + length].decode())
                self.at += length
        return values


UNCHANGED = object()


class Change:
    __slots__ = ("image", "op", "position", "ts")

    def __init__(self, op: str, image: dict[str, Any], position: str, ts: datetime | None) -> None:
        self.op, self.image, self.position, self.ts = op, image, position, ts


def decode(messages: list[bytes], table: tuple[str, str], key: list[str]) -> list[Change]:
    """pgoutput messages -> row changes of ``table``, each positioned by its transaction's commit.

    ``key``: the table's primary key (with REPLICA IDENTITY FULL every column is in the old image, so
    the identity does not tell a key change from any other update). A TOAST value an update did not
    send is taken from the old image (FULL) or from the key's previous change in these messages."""
    relations: dict[int, Relation] = {}
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    changes: list[Change] = []
    pending: list[tuple[str, int, dict[str, Any]]] = []
    commit_ts: datetime | None = None
    for data in messages:
        r = _Reader(data)
        kind = r.take(">c")
        if kind == b"B":
            _final_lsn, ts, _xid = r.take(">QqI")
            commit_ts, pending = PG_EPOCH + timedelta(microseconds=ts), []
        elif kind == b"C":
            _flags, commit_lsn, _end, _ts = r.take(">bQQq")
            for index, (op, _oid, image) in enumerate(pending, 1):
                changes.append(Change(op, image, position(commit_lsn, index), commit_ts))
                latest[tuple(image.get(k) for k in key)] = image
            pending = []
        elif kind == b"R":
            oid = r.take(">I")
            schema, name = r.string(), r.string()
            _identity = r.take(">c")
            cols = []
            for _ in range(r.take(">h")):
                flags = r.take(">b")
                col = r.string()
                type_oid, typmod = r.take(">Ii")
                cols.append((col, type_oid, typmod, bool(flags & 1)))
            relations[oid] = Relation(schema, name, cols)
        elif kind in (b"I", b"U", b"D"):
            oid = r.take(">I")
            rel = relations[oid]
            if (rel.schema, rel.name) != table:
                continue
            names = [c[0] for c in rel.columns]
            if kind == b"I":
                r.take(">c")  # 'N'
                pending.append(("c", oid, dict(zip(names, r.tuple(), strict=True))))
            elif kind == b"D":
                r.take(">c")  # 'K' (key columns only) or 'O' (REPLICA IDENTITY FULL)
                pending.append(("d", oid, dict(zip(names, r.tuple(), strict=True))))
            else:
                old = None
                marker = r.take(">c")
                if marker in (b"K", b"O"):
                    old = dict(zip(names, r.tuple(), strict=True))
                    r.take(">c")  # 'N'
                new = dict(zip(names, r.tuple(), strict=True))
                ident = key or rel.key
                earlier = latest.get(tuple(new.get(k) for k in ident), {})
                for col, value in new.items():  # an unchanged TOAST value: the old image has it (FULL)
                    if value is UNCHANGED:
                        new[col] = (
                            old[col] if old is not None and old.get(col) is not UNCHANGED else earlier.get(col, value)
                        )
                if old is not None and any(old.get(k) != new.get(k) for k in ident):
                    pending.append(("d", oid, old))  # the key changed: the old key goes
                    pending.append(("c", oid, new))
                else:
                    pending.append(("u", oid, new))
        elif kind == b"T":
            _n, _options = r.take(">Ib")
            oids = [r.take(">I") for _ in range(_n)]
            if any((relations[o].schema, relations[o].name) == table for o in oids if o in relations):
                pending.append(("t", 0, {}))
    return changes


# ----------------------------------------------------------------------------------------- source
class PostgresCDCSource(Source):
    """``source: {postgres_cdc: {url, table, slot, publication}}``: one slot per mart."""

    schemaless_when_empty = False

    def __init__(self, url: str, table: str, slot: str, publication: str) -> None:
        self.url, self.slot, self.publication = url, slot, publication
        schema, _, name = table.rpartition(".")
        self.table = (schema or "public", name)
        self.advance_to: int | None = None
        self.notes: list[str] = []
        self.primary_key: list[str] = []

    def describe(self) -> str:
        from loaders.urls import parse_url

        return f"{parse_url(self.url).render_as_string(hide_password=True)} {'.'.join(self.table)} (slot {self.slot})"

    # connections
    def _dsn(self) -> str:
        from loaders.urls import parse_url

        url = parse_url(self.url)
        parts = {
            "host": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "user": url.username,
            "password": url.password,
            "dbname": url.database,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)

    def _connect(self, **kw: Any) -> Any:
        import psycopg

        try:
            conn = psycopg.connect(self._dsn(), autocommit=True, **kw)
        except psycopg.OperationalError as e:
            raise SourceError(f"cannot connect to {self.describe()}: {str(e).strip().splitlines()[0]}") from None
        conn.execute("SET TimeZone = 'UTC'")
        return conn

    # reading
    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        """Changes waiting in the slot (peeked, not consumed); on a mart's first load (no watermark)
        the slot is made anew and the table's rows copied consistently with it."""
        with self._connect() as conn:
            self._check(conn)
            columns = self._columns(conn)
            schema = _arrow_schema(columns)
            copied: list[pa.RecordBatch] = []
            if pushdown is None:  # first load of this mart: a fresh slot and a copy of the table
                copied = list(self._create_slot_and_copy(conn, columns, schema))
            elif not self._slot_exists(conn):
                raise SourceError(
                    f"replication slot {self.slot!r} is gone, so the changes since the mart's last load are "
                    "lost; drop the mart's table (and its watermark) to copy the table again"
                )
            changes = self._peek(conn)
        rows = [_row(c, columns) for c in changes]
        batches = [*copied, *([pa.RecordBatch.from_pylist(rows, schema=schema)] if rows else [])]
        return pa.RecordBatchReader.from_batches(schema, iter(batches))

    def committed(self) -> None:
        """The target committed what ``read`` returned: let the slot forget it."""
        if self.advance_to is None:
            return
        with self._connect() as conn:
            conn.execute("select pg_replication_slot_advance(%s, %s::pg_lsn)", (self.slot, _lsn_text(self.advance_to)))

    def _check(self, conn: Any) -> None:
        level = conn.execute("show wal_level").fetchone()[0]
        if level != "logical":
            raise SourceError(f"{self.describe()}: logical replication needs wal_level=logical (it is {level})")
        found = conn.execute(
            "select c.oid, c.relreplident from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s",
            self.table,
        ).fetchone()
        if found is None:
            raise SourceError(f"{self.describe()}: no table {'.'.join(self.table)}")
        oid, identity = found
        self.primary_key = [
            r[0]
            for r in conn.execute(
                "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                "and a.attnum = any(i.indkey) where i.indrelid = %s and i.indisprimary",
                (oid,),
            )
        ]
        has_pk = bool(self.primary_key)
        if identity == "n" or (identity == "d" and not has_pk):
            raise SourceError(
                f"table {'.'.join(self.table)} has no primary key, so its updates and deletes do not say which "
                "row they change; add one, or set REPLICA IDENTITY FULL (or USING INDEX)"
            )
        if not conn.execute("select 1 from pg_publication where pubname = %s", (self.publication,)).fetchone():
            conn.execute(f'CREATE PUBLICATION "{self.publication}" FOR TABLE "{self.table[0]}"."{self.table[1]}"')
            self._note(f"created publication {self.publication} for {'.'.join(self.table)}")

    def _columns(self, conn: Any) -> list[tuple[str, int, int]]:
        return conn.execute(
            "select a.attname, a.atttypid, a.atttypmod from pg_attribute a "
            "where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (f'"{self.table[0]}"."{self.table[1]}"',),
        ).fetchall()

    def _slot_exists(self, conn: Any) -> bool:
        return (
            conn.execute("select 1 from pg_replication_slots where slot_name = %s", (self.slot,)).fetchone() is not None
        )

    def _create_slot_and_copy(
        self, conn: Any, columns: list[tuple[str, int, int]], schema: pa.Schema
    ) -> Iterator[pa.RecordBatch]:
        if self._slot_exists(conn):  # made by a first load that did not commit: nothing was consumed from it
            conn.execute("select pg_drop_replication_slot(%s)", (self.slot,))
        repl = self._connect(replication="database")
        try:
            row = repl.execute(f'CREATE_REPLICATION_SLOT "{self.slot}" LOGICAL pgoutput EXPORT_SNAPSHOT').fetchone()
            self._note(f"created replication slot {self.slot} at {row[1]}; copying {'.'.join(self.table)}")
            at, now = position(_lsn(row[1]), 0), datetime.now(timezone.utc)
            with self._connect() as copy, copy.transaction():
                copy.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                copy.execute(f"SET TRANSACTION SNAPSHOT '{row[2]}'")
                names = ", ".join(f'"{c[0]}"' for c in columns)
                with copy.cursor(name="loaders_copy") as cur:
                    cur.execute(f'select {names} from "{self.table[0]}"."{self.table[1]}"')
                    while chunk := cur.fetchmany(COPY_ROWS):
                        data = [dict(zip([c[0] for c in columns], values, strict=True)) for values in chunk]
                        for d in data:
                            d.update({FEED_OP: "r", FEED_POSITION: at, FEED_TIME: now, FEED_UNCHANGED: None})
                        yield pa.RecordBatch.from_pylist(data, schema=schema)
        finally:
            repl.close()

    def _peek(self, conn: Any) -> list[Change]:
        rows = conn.execute(
            "select lsn::text, data from pg_logical_slot_peek_binary_changes(%s, NULL, NULL, "
            "'proto_version', '1', 'publication_names', %s)",
            (self.slot, self.publication),
        ).fetchall()
        messages = [bytes(data) for _, data in rows]
        ends = [
            struct.unpack_from(">Q", m, 10)[0] for m in messages if m[:1] == b"C"
        ]  # each commit's end LSN: how far the slot may go once the target has these
        self.advance_to = max(ends) if ends else None
        return decode(messages, self.table, self.primary_key)

    def _note(self, text: str) -> None:
        self.notes.append(text)
        log.warning("%s", text)


def _arrow_schema(columns: list[tuple[str, int, int]]) -> pa.Schema:
    fields = [pa.field(name, TYPES.get(oid, TEXT)[0](typmod)) for name, oid, typmod in columns]
    feed = [(FEED_OP, pa.string()), (FEED_POSITION, pa.string()), (FEED_TIME, pa.timestamp("us", "UTC"))]
    return pa.schema([*fields, *feed, (FEED_UNCHANGED, pa.string())])


def _row(change: Change, columns: list[tuple[str, int, int]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    unchanged = []
    for name, oid, _typmod in columns:
        value = change.image.get(name)
        if value is UNCHANGED:  # not sent and not in an old image: the target keeps what it has
            unchanged.append(name)
            value = None
        with contextlib.suppress(ValueError):
            value = TYPES.get(oid, TEXT)[1](value) if isinstance(value, str) else value
        row[name] = value
    row.update({FEED_OP: change.op, FEED_POSITION: change.position, FEED_TIME: change.ts})
    row[FEED_UNCHANGED] = f",{','.join(unchanged)}," if unchanged else None
    return row
