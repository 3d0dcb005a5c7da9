"""Debezium change events from JSON-lines files (as Kafka Connect file/S3 sinks write them).

Both forms are read: the full ``{"schema": ..., "payload": ...}`` envelope and the bare payload.
Each event becomes one row: the row image (``after``; ``before`` for a delete) plus ``__op`` (c, r,
u, d, or t for a truncate), ``__position`` and ``__source_ts`` (when the change was made in the source
database, Debezium's ``source.ts_ms``).

``__position`` orders the feed and is the mart's watermark. It is a fixed-width string of digits so
that it compares the same way in every engine:

- PostgreSQL: the last commit's LSN then the change's LSN (Debezium's ``source.sequence``). A
  transaction that began earlier but committed later sorts after the ones it waited behind, so a run
  that took the earlier commit does not make the later one look old;
- MySQL: binlog file number, position, row;
- anything else: ``ts_ms``.

Snapshot reads (op r) share one position; the cdc strategy applies reads at the watermark again
(they are idempotent), so a snapshot split over two runs keeps its second half.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from loaders.errors import SourceError
from loaders.sources.base import Pushdown, Source
from loaders.sources.files import FileSource
from loaders.spec import FEED_OP, FEED_POSITION, FEED_TIME

OP, POSITION, TS = FEED_OP, FEED_POSITION, FEED_TIME
#: events per Arrow batch
CHUNK = 50_000
EPOCH = date(1970, 1, 1)


class DebeziumSource(Source):
    """A Debezium topic written as JSON lines: one file, a folder or a glob, read in file-name order."""

    def __init__(self, path: str, base_dir: Path | None = None) -> None:
        self.files = FileSource(path, format="jsonl", base_dir=base_dir)
        self.path = path
        self.rows_read: int | None = None

    def describe(self) -> str:
        return f"{self.path} (debezium)"

    #: an empty topic has no columns to show; the load treats it as an empty batch, not a missing key
    schemaless_when_empty = True

    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        """Events past the watermark in file order (the strategy orders them by position), in batches
        of ``CHUNK``.

        Events the mart already has are dropped while parsing (a topic folder keeps growing; only the
        new events are held). The rest are parsed whole before the first batch: a column's type is
        known only when every image has been seen (Debezium leaves out NULLs and optional fields)."""
        bound = pushdown.value if pushdown is not None and pushdown.column == POSITION else None
        table = _table(list(self._events(bound)))
        self.rows_read = table.num_rows
        return table.to_reader(max_chunksize=CHUNK)

    def _events(self, bound: str | None) -> Iterator[Event]:
        seen: set[tuple[str, str, str]] = set()
        for file in self.files.files():
            with open(file, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    event = _parse(line, file, number)
                    if event is None or (bound is not None and _applied(event, bound)):
                        continue
                    fingerprint = (event.position, event.op, json.dumps(event.image, sort_keys=True, default=str))
                    if fingerprint in seen:
                        continue
                    seen.add(fingerprint)
                    yield event


def _applied(event: Event, bound: str) -> bool:
    """The cdc rule for a feed (strategies.base.feed_stale): below the watermark, or at it unless a
    snapshot read."""
    return event.position < bound or (event.position == bound and event.op != "r")


class Event:
    __slots__ = ("converters", "image", "op", "position", "ts_ms")

    def __init__(
        self, op: str, image: dict[str, Any], position: str, ts_ms: int | None, converters: dict[str, Converter]
    ) -> None:
        self.op, self.image, self.position, self.ts_ms, self.converters = op, image, position, ts_ms, converters


Converter = tuple[pa.DataType, Callable[[Any], Any]]


def _parse(line: str, file: str, number: int) -> Event | None:
    text = line.strip()
    if not text or text == "null":
        return None  # a tombstone (or a blank line between records)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(f"{file}:{number}: not JSON ({e.msg})") from None
    if not isinstance(value, dict):
        raise SourceError(f"{file}:{number}: expected a JSON object, got {type(value).__name__}")
    schema = None
    if "payload" in value and "op" not in value:  # the full envelope
        schema, value = value.get("schema"), value["payload"]
        if value is None:
            return None  # a tombstone in envelope form
    op = value.get("op")
    if op == "m":  # a logical decoding message, not a row change
        return None
    if op not in ("c", "r", "u", "d", "t"):
        raise SourceError(f"{file}:{number}: not a Debezium change event (op {op!r}; expected c, r, u, d or t)")
    source = value.get("source") or {}
    image = value.get("before") if op == "d" else value.get("after")
    if op != "t" and not isinstance(image, dict):
        raise SourceError(f"{file}:{number}: op {op!r} without a row image ({'before' if op == 'd' else 'after'})")
    return Event(
        op,
        image or {},
        _position(source, value, file, number),
        source.get("ts_ms", value.get("ts_ms")),
        _converters(schema, "before" if op == "d" else "after"),
    )


def _position(source: dict[str, Any], payload: dict[str, Any], file: str, number: int) -> str:
    try:
        if source.get("lsn") is not None:  # PostgreSQL
            sequence = source.get("sequence")
            commit = json.loads(sequence)[0] if sequence else None
            return f"p{int(commit or 0):020d}{int(source['lsn']):020d}"
        if source.get("file") is not None and source.get("pos") is not None:  # MySQL
            found = re.search(r"(\d+)$", str(source["file"]))
            binlog = int(found.group(1)) if found else 0
            return f"m{binlog:010d}{int(source['pos']):020d}{int(source.get('row') or 0):010d}"
        ts = source.get("ts_ms", payload.get("ts_ms"))
        if ts is not None:
            return f"t{int(ts):020d}"
    except (ValueError, TypeError, IndexError) as e:
        raise SourceError(f"{file}:{number}: cannot read the event's position from `source`: {e}") from None
    raise SourceError(f"{file}:{number}: the event has no position (source.lsn, source.file/pos or ts_ms)")


# ---------------------------------------------------------------------------------------- types
def _decimal(scale: int) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        raw = base64.b64decode(v) if isinstance(v, str) else bytes(v)
        return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)

    return convert


def _variable_decimal(v: Any) -> Any:
    return _decimal(int(v["scale"]))(v["value"]) if isinstance(v, dict) else v


def _zoned(v: Any) -> Any:
    return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc) if isinstance(v, str) else v


def _same(v: Any) -> Any:
    return v


_PLAIN: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float": pa.float32(),
    "float64": pa.float64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
}

#: Debezium / Kafka Connect logical types: (Arrow type, value converter). Times arrive as integers
#: counted from the epoch and are cast in Arrow (a view, no per-value work).
_LOGICAL: dict[str, Converter] = {
    "io.debezium.time.Date": (pa.date32(), _same),
    "org.apache.kafka.connect.data.Date": (pa.date32(), _same),
    "io.debezium.time.Timestamp": (pa.timestamp("ms"), _same),
    "org.apache.kafka.connect.data.Timestamp": (pa.timestamp("ms"), _same),
    "io.debezium.time.MicroTimestamp": (pa.timestamp("us"), _same),
    "io.debezium.time.NanoTimestamp": (pa.timestamp("ns"), _same),
    "io.debezium.time.ZonedTimestamp": (pa.timestamp("us", "UTC"), _zoned),
    "io.debezium.time.Time": (pa.time32("ms"), _same),
    "org.apache.kafka.connect.data.Time": (pa.time32("ms"), _same),
    "io.debezium.time.MicroTime": (pa.time64("us"), _same),
    "io.debezium.time.NanoTime": (pa.time64("ns"), _same),
    "io.debezium.data.VariableScaleDecimal": (pa.decimal128(38, 10), _variable_decimal),
}


def _converters(schema: dict[str, Any] | None, image: str) -> dict[str, Converter]:
    """Column -> (Arrow type, converter) from the envelope's schema of the row image; {} without one."""
    if not schema:
        return {}
    struct = next((f for f in schema.get("fields", []) if f.get("field") == image), None)
    if struct is None:
        return {}
    found: dict[str, Converter] = {}
    for field in struct.get("fields", []):
        name, kind, logical = field["field"], field.get("type"), field.get("name")
        if logical == "org.apache.kafka.connect.data.Decimal":
            params = field.get("parameters") or {}
            scale = int(params.get("scale", 0))
            precision = int(params.get("connect.decimal.precision", 38))
            found[name] = (pa.decimal128(max(precision, scale, 1), scale), _decimal(scale))
        elif logical in _LOGICAL:
            found[name] = _LOGICAL[logical]
        elif kind == "bytes":
            found[name] = (pa.binary(), lambda v: base64.b64decode(v) if isinstance(v, str) else v)
        elif kind in _PLAIN:
            found[name] = (_PLAIN[kind], _same)
    return found


def _columns(events: list[Event]) -> tuple[list[str], dict[str, pa.DataType]]:
    """Every column any image has, in first-seen order, with its type from the schemas (if any)."""
    columns: dict[str, None] = {}
    types: dict[str, pa.DataType] = {}
    for e in events:
        columns.update(dict.fromkeys(e.image))
        for name, (t, _) in e.converters.items():
            types.setdefault(name, t)
            columns.setdefault(name, None)
    return list(columns), types


def _table(events: list[Event]) -> pa.Table:
    columns, types = _columns(events)
    arrays = []
    for name in columns:
        values = []
        for e in events:
            v = e.image.get(name)
            conv = e.converters.get(name)
            values.append(conv[1](v) if conv is not None and v is not None else v)
        arrays.append(_array(values, types.get(name), name))
    arrays.append(pa.array([e.op for e in events], pa.string()))
    arrays.append(pa.array([e.position for e in events], pa.string()))
    arrays.append(pa.array([e.ts_ms for e in events], pa.int64()).cast(pa.timestamp("ms", "UTC")))
    return pa.Table.from_arrays(arrays, names=[*columns, OP, POSITION, TS])


def _array(values: list[Any], t: pa.DataType | None, name: str) -> pa.Array:
    try:
        if t is None:
            return pa.array(values)
        if pa.types.is_timestamp(t) and t.tz is None or pa.types.is_date(t) or pa.types.is_time(t):
            width = pa.int32() if t.bit_width == 32 else pa.int64()
            return pa.array(values, width).cast(t)  # epoch counts -> dates and times, in Arrow
        return pa.array(values, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
        raise SourceError(f"column {name!r}: values do not fit {t or 'one type'}: {e}") from None
