"""Parquet, CSV and JSON-lines files, one file, a folder or a glob, read as a streamed Arrow dataset.

pyarrow (and ``pyarrow.dataset``, several times pyarrow itself) is imported only when the files are
read here: a target that reads Parquet in place (DuckDB) needs only the file list from this module,
and reads the footers, types and rows itself.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loaders.errors import SourceError
from loaders.lazy import lazy
from loaders.sources.base import Pushdown, Source, zoned

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from loaders.targets.columns import Column
else:
    pa = lazy("pyarrow")

_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
#: rows per record batch handed to the target
BATCH_ROWS = 131_072


class FileSource(Source):
    def __init__(self, path: str, format: str | None = None, base_dir: Path | None = None) -> None:
        self.path = path
        self.base_dir = base_dir
        self.format = format
        self._dataset: ds.Dataset | None = None
        #: the files, listed once per source, so one load sees one set of files
        self._files: list[str] | None = None

    def describe(self) -> str:
        return self.path

    def files(self) -> list[str]:
        if self._files is None:
            self._files = self._list_files()
        return self._files

    def _list_files(self) -> list[str]:
        path = Path(self.path)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            found = sorted(glob.glob(str(path), recursive=True))
        if not found:
            raise SourceError(f"no files match {self.path!r}" + (f" (in {self.base_dir})" if self.base_dir else ""))
        return found

    def _format(self, files: list[str]) -> str:
        if self.format:
            return self.format
        suffixes = {Path(f).suffix.lower() for f in files}
        formats = {_FORMATS.get(s) for s in suffixes}
        if len(formats) != 1 or None in formats:
            raise SourceError(
                f"cannot tell the format of {self.path!r} from {sorted(suffixes)}; set `format: parquet|csv|jsonl`"
            )
        return formats.pop()  # type: ignore[return-value]

    def dataset(self) -> ds.Dataset:
        """The files as one dataset; made once per source, so one load sees one set of files."""
        if self._dataset is None:
            self._dataset = self._open_dataset()
        return self._dataset

    def _open_dataset(self) -> ds.Dataset:
        import pyarrow.dataset as ds

        files = self.files()
        fmt = self._format(files)
        arrow_format = "json" if fmt == "jsonl" else fmt
        try:
            if len(files) == 1:
                return ds.dataset(files, format=arrow_format)
            # Files written before and after a schema change: the union of their columns (older files
            # read as NULL). Left alone, the dataset would take the first file's schema and silently
            # drop the new columns.
            schemas = [ds.dataset(f, format=arrow_format).schema for f in files]
            unified = pa.unify_schemas(schemas, promote_options="permissive")
            return ds.dataset(files, format=arrow_format, schema=unified)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as e:
            raise SourceError(f"cannot read {self.path!r} as {fmt}: {e}") from None

    def in_place_format(self) -> str | None:
        """The format, when a target may read these files itself: Parquet, whose types are the file's
        own (a CSV's would be the engine's guess, not Arrow's). The target then checks the columns
        (:meth:`sql_over`'s ``columns``), without this process reading a footer."""
        return "parquet" if self._format(self.files()) == "parquet" else None

    def sql_over(
        self, reader: str, pushdown: Pushdown | None, dialect: Any, columns: list[Column]
    ) -> tuple[str, dict[str, Any]]:
        """SELECT from the target's own reader of these files (``reader``, SQLAlchemy text; ``columns``
        as the target describes it) with the watermark filter the stream would apply; rows with a NULL
        cursor are kept for the NULL check."""
        from loaders.targets.columns import TIMESTAMP, TIMESTAMPTZ

        families = {c.name: c.family for c in columns}
        if pushdown is None or pushdown.value is None or pushdown.column not in families:
            return f"SELECT * FROM {reader}", {}
        # with the column's type: a zoned column compares with the watermark's instant in UTC
        family = families[pushdown.column]
        zoned = family == TIMESTAMPTZ if family in (TIMESTAMP, TIMESTAMPTZ) else None
        where, params = pushdown.where(dialect.identifier_preparer.quote, zoned)
        return f"SELECT * FROM {reader} WHERE {where}", params

    def read(self, pushdown: Pushdown | None = None) -> pa.RecordBatchReader:
        import pyarrow.dataset as ds

        dataset = self.dataset()
        filter_ = None
        if pushdown is not None and pushdown.value is not None and pushdown.column in dataset.schema.names:
            value = pushdown.value_for(zoned(dataset.schema.field(pushdown.column).type))
            past = ds.field(pushdown.column) >= value if pushdown.inclusive else ds.field(pushdown.column) > value
            filter_ = past | ds.field(pushdown.column).is_null()
        try:
            try:
                dataset.scanner(filter=filter_)  # type-checks the filter; reads nothing
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                filter_ = None  # the comparison does not type-check (e.g. naive vs tz-aware): read all
            if isinstance(dataset.format, ds.ParquetFileFormat):
                return pa.RecordBatchReader.from_batches(dataset.schema, _row_groups(dataset, filter_))
            if isinstance(dataset.format, (ds.CsvFileFormat, ds.JsonFileFormat)):
                return pa.RecordBatchReader.from_batches(dataset.schema, _text_blocks(dataset, filter_))
            return dataset.scanner(filter=filter_, batch_size=BATCH_ROWS).to_reader()
        except (pa.ArrowInvalid, OSError) as e:
            raise SourceError(f"cannot read {self.path!r}: {e}") from None


def _row_groups(dataset: ds.Dataset, filter_: ds.Expression | None) -> Iterator[pa.RecordBatch]:
    """A Parquet source one row group at a time, so memory is a row group, not the file.

    Arrow's dataset scanner reads a file ahead as fast as it can: behind a slower target (COPY into a
    server) a 3M-row, 360 MB file was almost all in memory at once (peak 345 MB of Arrow memory);
    row group by row group the peak was 36 MB. The filter also skips row groups whose statistics
    rule them out, which is what an incremental load past a watermark wants."""
    for fragment in dataset.get_fragments(filter=filter_):
        for group in fragment.split_by_row_group(filter=filter_):  # type: ignore[attr-defined]
            yield from group.to_batches(schema=dataset.schema, filter=filter_, batch_size=BATCH_ROWS)


#: bytes of a CSV or JSON-lines file parsed at a time: Arrow's parse peaks at about 40 blocks, so
#: 512 KB keeps it near 20 MB (1 MB: 40 MB; 4 MB: 76 MB) at the same speed
TEXT_BLOCK_BYTES = 1 << 19


def _text_blocks(dataset: ds.Dataset, filter_: ds.Expression | None) -> Iterator[pa.RecordBatch]:
    """CSV and JSON lines, file by file and block by block, typed as the dataset's (unified) schema.

    Arrow's dataset scanner parses a text file ahead of its reader: behind a slower target a 120 MB
    CSV file held 230 MB of Arrow memory; block by block the peak was about 20 MB. A file without a
    column the others have (written before it was added) reads it as NULL."""
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds
    import pyarrow.json as pjson

    schema = dataset.schema
    for path in dataset.files:
        if isinstance(dataset.format, ds.CsvFileFormat):
            reader = pcsv.open_csv(  # types of columns the file lacks are ignored; they come back as NULL below
                path,
                read_options=pcsv.ReadOptions(block_size=TEXT_BLOCK_BYTES, use_threads=False),
                convert_options=pcsv.ConvertOptions(column_types={f.name: f.type for f in schema}),
            )
        else:
            reader = pjson.open_json(
                path,
                read_options=pjson.ReadOptions(block_size=TEXT_BLOCK_BYTES, use_threads=False),
                parse_options=pjson.ParseOptions(explicit_schema=schema),
            )
        for batch in reader:
            if batch.schema != schema:  # columns in the dataset's order, missing ones NULL
                n = batch.num_rows
                columns = [
                    batch.column(f.name).cast(f.type) if f.name in batch.schema.names else pa.nulls(n, f.type)
                    for f in schema
                ]
                batch = pa.RecordBatch.from_arrays(columns, schema=schema)
            if filter_ is not None:
                kept = pa.Table.from_batches([batch]).filter(filter_)
                yield from kept.to_batches()
            elif batch.num_rows:
                yield batch
