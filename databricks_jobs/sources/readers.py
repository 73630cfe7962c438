"""Readers: list a source's files, fingerprint them, and turn each into Bronze rows (raw strings + line numbers).

CSV goes through Spark only (the benchmark pushes tens of millions of rows), all new files of a source in one read so
that thousands of small files are not thousands of Spark jobs; legacy .xls goes through xlrd/pandas, which is fine for
files of a few thousand rows. Listing, fingerprinting and header probes go through
databricks_jobs.storage (Python only, no JVM: serverless and standard access mode run this through Spark Connect), so
the same code reads a local folder, a Unity Catalog Volume or s3a://.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

import pyspark.sql.functions as F
from pyspark.sql import Column, DataFrame, SparkSession, Window

from databricks_jobs import storage
from databricks_jobs.sources.model import SourceDefinition

HEADER_PROBE_BYTES = 1 << 16
HASH_CHUNK_BYTES = 8 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .docx, .zip


class RawFileError(ValueError):
    """A raw file cannot be ingested; the message names the file and the problem."""


@dataclass(frozen=True)
class RawFile:
    uri: str  # what spark.read.text takes: the raw root's own scheme (a folder, /Volumes/..., s3a://bucket/raw/x.csv)
    relative_path: str  # relative to raw_root: the stable name stored as source_file
    size_bytes: int
    modified_ms: int | None = None  # epoch ms of the file's last modification, when storage reports one


def _raw(raw_root: str, info: storage.FileInfo) -> RawFile:
    try:
        relative = storage.relative_to(raw_root, info.uri)
    except ValueError:
        relative = info.uri  # a file named by an absolute path outside the raw root keeps its full name
    return RawFile(info.uri, relative, info.size_bytes, info.modified_ms)


def list_files(raw_root: str, pattern: str) -> list[RawFile]:
    """Files under raw_root matching a glob, sorted by relative path (deterministic processing order)."""
    files = [_raw(raw_root, info) for info in storage.glob_files(raw_root, pattern)]
    return sorted(files, key=lambda f: f.relative_path)


def raw_file(raw_root: str, path: str) -> RawFile:
    """One named file (absolute, or relative to raw_root); RawFileError when it does not exist."""
    absolute = "://" in path or path.startswith(("/", "file:"))
    info = storage.file_info(path if absolute else f"{raw_root.rstrip('/')}/{path}")
    if info is None or info.is_dir:
        raise RawFileError(f"{path}: missing file (no such file under {raw_root})")
    return _raw(raw_root, info)


def read_bytes(uri: str, limit: int | None = None) -> Iterator[bytes]:
    """The file's bytes in chunks, the first `limit` bytes only when given."""
    return storage.read_bytes(uri, limit, HASH_CHUNK_BYTES)


def content_hash(uri: str) -> str:
    """sha256 of the file's bytes: the identity Bronze uses to skip a file it already holds."""
    digest = hashlib.sha256()
    for chunk in read_bytes(uri):
        digest.update(chunk)
    return digest.hexdigest()


def normalise_header(name: str) -> str:
    """Header names compare case-, space- and BOM-insensitively."""
    return " ".join(str(name).replace("\ufeff", "").split()).lower()


def find_column(header: list[str], aliases: tuple[str, ...]) -> str | None:
    """The header name matching the first alias present, or None."""
    by_key = {normalise_header(h): h for h in header}
    return next((by_key[normalise_header(a)] for a in aliases if normalise_header(a) in by_key), None)


def required_aliases(definition: SourceDefinition) -> list[tuple[str, tuple[str, ...]]]:
    """(what, aliases) for every column a file of this source must have in its header."""
    needed = [("timestamp", aliases) for aliases in definition.timestamp.columns]
    if definition.shape == "long":
        needed += [(f"field {f.name}", f.columns) for f in definition.fields if f.required]
        needed += [(f"sum_over {c}", (c,)) for c in definition.sum_over]
    for what, key in (("region", definition.region), ("station", definition.station)):
        if key is not None and key.origin == "column":
            needed.append((what, key.columns))
    if definition.row_filter is not None:
        needed.append(("filter", definition.row_filter.columns))
    return needed


def number_duplicates(header: list[str], definition: SourceDefinition) -> list[str]:
    """With `duplicate_columns: number`, later occurrences of a name become 'NAME#2', 'NAME#3' (the first keeps its
    name, so aliases find it); otherwise the header is returned as is and check_header refuses duplicates."""
    if definition.duplicate_columns != "number":
        return header
    seen: dict[str, int] = {}
    numbered = []
    for name in header:
        key = normalise_header(name)
        seen[key] = seen.get(key, 0) + 1
        numbered.append(name if seen[key] == 1 else f"{name}#{seen[key]}")
    return numbered


def check_header(definition: SourceDefinition, header: list[str], file: str) -> None:
    missing = [
        f"{what} (one of {list(aliases)})"
        for what, aliases in required_aliases(definition)
        if not find_column(header, aliases)
    ]
    if missing:
        raise RawFileError(f"{file}: wrong header: no column for {'; '.join(missing)}; header is {header}")
    if len({normalise_header(h) for h in header}) != len(header):
        raise RawFileError(f"{file}: wrong header: duplicate column names in {header}")


def _probe_text(file: RawFile) -> str:
    """The file's first 64 KiB as text (decompressed when gzip); RawFileError for binary or non-UTF-8 content."""
    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    probe = b"".join(read_bytes(file.uri, HEADER_PROBE_BYTES))
    if probe.startswith(GZIP_MAGIC):
        if not file.relative_path.endswith(".gz"):
            # Spark's text reader picks the codec by extension: a gzip file named .csv would be read as binary.
            raise RawFileError(f"{file.relative_path}: gzip-compressed content in a file not named *.gz; rename it")
        try:
            probe = zlib.decompressobj(wbits=31).decompress(probe, HEADER_PROBE_BYTES)
        except zlib.error as error:
            raise RawFileError(f"{file.relative_path}: not a readable gzip file ({error})") from None
    if b"\x00" in probe:
        offset = probe.index(b"\x00")
        raise RawFileError(f"{file.relative_path}: binary content, not text (NUL byte at offset {offset})")
    try:
        return probe.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the probe limit is fine; anything earlier is not text.
        if error.start < len(probe) - 4:
            raise RawFileError(f"{file.relative_path}: not UTF-8 text (invalid byte at offset {error.start})") from None
        return probe[: error.start].decode("utf-8")


def _header_record(file: RawFile, definition: SourceDefinition) -> tuple[list[str], int]:
    """(header fields, physical lines the header takes): a quoted column name may hold a line break."""
    text = _probe_text(file).lstrip("\ufeff")
    if not text.strip() or not text.splitlines()[0].strip():
        raise RawFileError(f"{file.relative_path}: empty file (no header line)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=definition.delimiter)
    header = next(reader)
    names = [re.sub(r"\s*[\r\n]+\s*", " ", h).strip() for h in header]
    return number_duplicates(names, definition), reader.line_num


@dataclass(frozen=True)
class CsvFile:
    """A CSV file whose header was probed and checked: what the batched read needs to turn it into Bronze rows."""

    file: RawFile
    content_hash: str
    header: tuple[str, ...]
    header_lines: int  # physical lines the header takes (more than 1 when a quoted name holds a line break)


def probe_csv(file: RawFile, content_hash: str, definition: SourceDefinition) -> CsvFile:
    """Header probe and check of one CSV file (Python, first 64 KiB only); RawFileError for a file to refuse."""
    header, header_lines = _header_record(file, definition)
    check_header(definition, header, file.relative_path)
    return CsvFile(file, content_hash, tuple(header), header_lines)


def split_fields(line: Column, delimiter: str) -> Column:
    """Split one CSV line into raw field strings; quote-aware only where the line has a quote (the rare case)."""
    delim = re.escape(delimiter)
    quote_aware = f'{delim}(?=(?:[^"]*"[^"]*")*[^"]*$)'
    unquoted = F.transform(
        F.split(line, quote_aware, -1),
        lambda v: F.regexp_replace(F.regexp_replace(v, r'^\s*"(.*)"\s*$', "$1"), '""', '"'),
    )
    return F.when(line.contains('"'), unquoted).otherwise(F.split(line, delim, -1))


def field_count(line: Column, delimiter: str) -> Column:
    """size(split_fields(line)) without building the array where the line has no quote: delimiters + 1 (0 for an
    empty line)."""
    delimiters = (F.length(line) - F.length(F.replace(line, F.lit(delimiter), F.lit("")))) / len(delimiter)
    plain = (delimiters + 1).cast("int")
    counted = F.when(line.contains('"'), F.size(split_fields(line, delimiter))).otherwise(plain)
    return F.when(line == "", F.lit(0)).otherwise(counted)


@dataclass(frozen=True)
class BlockLines:
    """What one aggregation over a batched read says about one file split (`_metadata.file_block_start`)."""

    path: str  # _metadata.file_path, as Spark names the file
    block_start: int
    lines: int
    first_id: int  # monotonically_increasing_id of the split's first line
    first_bad_id: int | None  # ... of its first line that is not valid UTF-8


@dataclass(frozen=True)
class FileLines:
    lines: int  # physical lines of the file
    first_bad_line: int | None  # 1-based number of the first line that is not valid UTF-8


def file_lines(blocks: list[BlockLines]) -> dict[str, FileLines]:
    """Per file, its line count and the number of its first line that is not UTF-8, from per-split counts.

    Spark reads each split of a file in one partition, in file order, and a partition reads its splits one after
    another, so a split's lines have consecutive monotonically_increasing_id values from `first_id`; a file's lines
    are its splits' lines in block order. Several small files in one partition, or one big file over several, alike.
    """
    by_path: dict[str, list[BlockLines]] = {}
    for block in blocks:
        by_path.setdefault(block.path, []).append(block)
    result = {}
    for path, splits in by_path.items():
        before, first_bad = 0, None
        for block in sorted(splits, key=lambda b: b.block_start):
            if first_bad is None and block.first_bad_id is not None:
                first_bad = before + block.first_bad_id - block.first_id + 1
            before += block.lines
        result[path] = FileLines(before, first_bad)
    return result


def path_key(uri: str) -> str:
    """A file's URI as comparable text: Spark's `_metadata.file_path` (file:/a/x%20y.csv, dbfs:/Volumes/...) and the
    listing's URI (/a/x y.csv, file:///a/..., s3a://...) of one file give the same key."""
    text = unquote(uri)
    for scheme in ("file:", "dbfs:"):
        if text.startswith(scheme):
            return "/" + text[len(scheme) :].lstrip("/")
    return text if "://" in text else os.path.abspath(text)


def match_paths(spark_paths: list[str], files: list[CsvFile]) -> dict[str, CsvFile]:
    """Spark's name of each file read -> the file; by exact key, else by the one relative path it ends with."""
    by_key = {path_key(f.file.uri): f for f in files}
    matched = {}
    for path in spark_paths:
        key = path_key(path)
        found = by_key.get(key)
        if found is None:
            ends = [f for f in files if key.endswith("/" + f.file.relative_path.lstrip("/"))]
            if len(ends) != 1:
                raise RuntimeError(f"Spark read {path}, which is none of the files asked for")
            found = ends[0]
        matched[path] = found
    return matched


# Lines per Bronze output file when a read packs many small files into few partitions.
LINES_PER_WRITE_PARTITION = 100_000


def write_partitions(blocks: list[BlockLines], files: int) -> int | None:
    """How many partitions to spread a read's lines over before the write, or None to keep the read's.

    Spark packs small files into few partitions (two here for 24 files of 2 MB); written as they are, Bronze gets as
    few data files and Silver, which reads them, as few tasks: a straggler then idles the other cores. Per-file reads
    gave at least one partition per file, so spread up to that many (one per LINES_PER_WRITE_PARTITION lines); a read
    of big files already has its splits.
    """
    read = len({b.first_id >> 33 for b in blocks})  # monotonically_increasing_id holds the partition id from bit 33
    lines = sum(b.lines for b in blocks)
    wanted = min(files, -(-lines // LINES_PER_WRITE_PARTITION))
    return wanted if wanted > read else None


@dataclass
class CsvBatch:
    """The Bronze rows of a source's new CSV files, read together, and the outcome per file (relative path)."""

    rows: DataFrame | None  # source_file, content_hash, source_row_number, raw_line, field_count
    row_counts: dict[str, int]  # accepted files -> data rows
    errors: dict[str, RawFileError]  # refused files -> why


def _outcome(csv_file: CsvFile, lines: FileLines | None) -> int | RawFileError:
    """Data rows of a file, or why it is refused (bytes that are not UTF-8 anywhere, no data line)."""
    name = csv_file.file.relative_path
    if lines is not None and lines.first_bad_line is not None:
        return RawFileError(
            f"{name}: not UTF-8 text (line {lines.first_bad_line} holds bytes that are not UTF-8); "
            "re-encode the file as UTF-8"
        )
    rows = (lines.lines if lines else 0) - csv_file.header_lines
    return rows if rows > 0 else RawFileError(f"{name}: empty file (header only, no data rows)")


def read_csv_files(spark: SparkSession, files: list[CsvFile], definition: SourceDefinition) -> CsvBatch:
    """Data rows of many CSV files in one Spark read: one aggregation gives every file's line count and its first
    line that is not UTF-8 (the header probe sees only 64 KiB); the rows come from the same read, numbered per file
    by a window in the write's job. A refused file fails alone, naming its line."""
    if not files:
        return CsvBatch(None, {}, {})
    lines = spark.read.text([f.file.uri for f in files]).select(
        F.col("value").alias("raw_line"),
        F.col("_metadata.file_path").alias("_path"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_id"),
    )
    stats = lines.groupBy("_path", "_block").agg(
        F.count(F.lit(1)).alias("lines"),
        F.min("_id").alias("first_id"),
        F.min(F.when(~F.is_valid_utf8("raw_line"), F.col("_id"))).alias("first_bad_id"),
    )
    blocks = [BlockLines(r._path, r._block, r.lines, r.first_id, r.first_bad_id) for r in stats.collect()]
    per_path = file_lines(blocks)
    by_path = match_paths(list(per_path), files)
    by_name = {f.file.relative_path: (path, per_path[path]) for path, f in by_path.items()}
    outcomes = {f.file.relative_path: _outcome(f, by_name.get(f.file.relative_path, ("", None))[1]) for f in files}
    accepted = [f for f in files if isinstance(outcomes[f.file.relative_path], int)]
    batch = CsvBatch(
        None,
        {name: n for name, n in outcomes.items() if isinstance(n, int)},
        {name: e for name, e in outcomes.items() if isinstance(e, RawFileError)},
    )
    if not accepted:
        return batch
    records = []
    for f in files:
        name = f.file.relative_path
        path = by_name.get(name, ("", None))[0]
        records.append((path, name, f.content_hash, f.header_lines, name in batch.row_counts))
    known = spark.createDataFrame(
        records, "_path string, source_file string, content_hash string, _header_lines int, _accepted boolean"
    )
    # Numbered inside the write's own job (a file's lines in block order, then read order within a block), so the
    # numbers do not depend on Spark packing the files into partitions the same way in two jobs (the aggregation
    # above only counts). A left join: a file the listing does not know keeps its rows with a null source_file,
    # which the table's NOT NULL refuses, instead of losing them.
    in_file = Window.partitionBy("_path").orderBy("_block", "_id")
    numbered = lines.join(F.broadcast(known), "_path", "left").select(
        "source_file",
        "content_hash",
        F.row_number().over(in_file).cast("long").alias("source_row_number"),
        "raw_line",
        "_header_lines",
        "_accepted",
    )
    is_header = F.coalesce(F.col("source_row_number") <= F.col("_header_lines"), F.lit(False))
    data = numbered.where(F.coalesce(F.col("_accepted"), F.lit(True)) & ~is_header)
    spread = write_partitions(blocks, len(files))
    if spread:
        data = data.repartition(spread)
    batch.rows = data.select(
        "source_file",
        "content_hash",
        "source_row_number",
        "raw_line",
        field_count(F.col("raw_line"), definition.delimiter).alias("field_count"),
    )
    return batch


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold; None for an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xls_rows(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], list[tuple]]:
    """Header and data rows (row number, the cells as a JSON array, field count) of a legacy .xls sheet.

    The header is the first row within `xls.header_search_rows` that holds every required column (by alias).
    """
    import pandas as pd

    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    if file.size_bytes > definition.xls_max_bytes:
        # xlrd holds the whole workbook in memory (several times its size): refuse before reading a byte.
        raise RawFileError(
            f"{file.relative_path}: .xls file of {file.size_bytes:,} bytes is above the source's limit of "
            f"{definition.xls_max_bytes:,} (xls.max_megabytes); export it as CSV or split it"
        )
    if b"".join(read_bytes(file.uri, len(ZIP_MAGIC))) == ZIP_MAGIC:
        raise RawFileError(
            f"{file.relative_path}: an .xlsx (Office Open XML / zip) workbook, but the source declares format: xls "
            "(legacy BIFF); save it as .xls or export it as CSV"
        )
    content = b"".join(read_bytes(file.uri))
    try:
        sheet = pd.read_excel(io.BytesIO(content), header=None, dtype=object, engine="xlrd")
    except Exception as error:  # noqa: BLE001 - xlrd raises many types for a corrupt workbook
        raise RawFileError(f"{file.relative_path}: not a readable .xls workbook ({error})") from None
    cells = [[_cell_text(v) for v in row] for row in sheet.itertuples(index=False)]
    header_index = None
    for index, row in enumerate(cells[: definition.header_row_max + 1]):
        header = [c.strip() if c else f"column_{i + 1}" for i, c in enumerate(row)]
        if all(find_column(header, aliases) for _, aliases in required_aliases(definition)):
            header_index = index
            break
    if header_index is None:
        first = cells[0] if cells else []
        check_header(definition, [c or "" for c in first], file.relative_path)
        raise RawFileError(f"{file.relative_path}: wrong header: no header row in the first rows")
    header = number_duplicates(header, definition)
    check_header(definition, header, f"{file.relative_path}: row {header_index + 1}")  # duplicate names too
    rows = []
    for index in range(header_index + 1, len(cells)):
        values = cells[index]
        if all(v is None for v in values):
            continue  # an empty spreadsheet row holds nothing to lose
        rows.append((index + 1, json.dumps(values), len(header)))
    return header, rows
