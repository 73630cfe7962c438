"""Readers: list a source's files, fingerprint them, and turn each into Bronze rows (raw strings + line numbers).

CSV goes through Spark only (the benchmark pushes tens of millions of rows); legacy .xls goes through xlrd/pandas,
which is fine for files of a few thousand rows. Listing, fingerprinting and header probes go through
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
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

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


def _probe_text(spark: SparkSession, file: RawFile) -> str:
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


def _header_record(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], int]:
    """(header fields, physical lines the header takes): a quoted column name may hold a line break."""
    text = _probe_text(spark, file).lstrip("\ufeff")
    if not text.strip() or not text.splitlines()[0].strip():
        raise RawFileError(f"{file.relative_path}: empty file (no header line)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=definition.delimiter)
    header = next(reader)
    names = [re.sub(r"\s*[\r\n]+\s*", " ", h).strip() for h in header]
    return number_duplicates(names, definition), reader.line_num


def read_csv_header(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> list[str]:
    """The header fields of a CSV file (line breaks inside a name read as spaces); RawFileError for empty, binary or
    non-UTF-8 content."""
    return _header_record(spark, file, definition)[0]


def _split_fields(line: F.Column, delimiter: str) -> F.Column:
    """Split one CSV line into raw field strings; quote-aware only where the line has a quote (the rare case)."""
    delim = re.escape(delimiter)
    quote_aware = f'{delim}(?=(?:[^"]*"[^"]*")*[^"]*$)'
    unquoted = F.transform(
        F.split(line, quote_aware, -1),
        lambda v: F.regexp_replace(F.regexp_replace(v, r'^\s*"(.*)"\s*$', "$1"), '""', '"'),
    )
    return F.when(line.contains('"'), unquoted).otherwise(F.split(line, delim, -1))


def number_lines(lines: DataFrame) -> tuple[DataFrame, int]:
    """Physical line numbers (1-based) for the lines of ONE text file, exactly, without a Python round trip.

    Spark reads one file's splits into partitions in file order and monotonically_increasing_id counts up within a
    partition, so line number = lines in earlier partitions + position in the partition + 1.
    Returns the numbered lines and the number of lines.
    """
    numbered, total, _ = _number_lines(lines)
    return numbered, total


def _number_lines(lines: DataFrame) -> tuple[DataFrame, int, int | None]:
    """number_lines, plus the number of the first line that is not valid UTF-8 (Spark's text reader keeps the bytes
    as they are), found in the same pass that counts the lines."""
    tagged = lines.select(
        F.col("value").alias("raw_line"),
        F.spark_partition_id().alias("_pid"),
        F.monotonically_increasing_id().alias("_mid"),
    )
    position = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
    stats = tagged.groupBy("_pid").agg(
        F.count(F.lit(1)).alias("count"),
        F.min(F.when(~F.is_valid_utf8("raw_line"), position)).alias("first_bad"),
    )
    counts = {r["_pid"]: (r["count"], r["first_bad"]) for r in stats.collect()}
    offsets, total, first_bad = {}, 0, None
    for pid in sorted(counts):
        offsets[pid] = total
        count, bad = counts[pid]
        if first_bad is None and bad is not None:
            first_bad = total + bad + 1
        total += count
    offset = F.create_map(*[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))]) if offsets else None
    start = F.element_at(offset, F.col("_pid")) if offset is not None else F.lit(0)
    numbered = tagged.select("raw_line", (start + position + 1).cast("long").alias("source_row_number"))
    return numbered, total, first_bad


def read_csv_rows(
    spark: SparkSession, file: RawFile, header: list[str], definition: SourceDefinition
) -> tuple[DataFrame, int]:
    """Data rows of one CSV file and their count; RawFileError naming the line when bytes anywhere in the file are
    not UTF-8 (the header probe sees only the first 64 KiB).

    Columns: source_row_number (physical line, the header's lines first), raw_line, raw_fields, field_count.
    """
    header_lines = _header_record(spark, file, definition)[1]
    lines, line_count, first_bad = _number_lines(spark.read.text(file.uri))
    if first_bad is not None:
        raise RawFileError(
            f"{file.relative_path}: not UTF-8 text (line {first_bad} holds bytes that are not UTF-8); "
            "re-encode the file as UTF-8"
        )
    df = lines.where(F.col("source_row_number") > header_lines)
    fields = _split_fields(F.col("raw_line"), definition.delimiter)
    raw_fields = F.create_map(
        *[item for i, name in enumerate(header) for item in (F.lit(name), F.try_element_at(fields, F.lit(i + 1)))]
    )
    rows = df.select(
        "source_row_number",
        "raw_line",
        raw_fields.alias("raw_fields"),
        F.when(F.col("raw_line") == "", F.lit(0)).otherwise(F.size(fields)).alias("field_count"),
    )
    return rows, line_count - header_lines


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
    """Header and data rows (row number, raw JSON, fields, field count) of a legacy .xls sheet.

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
        rows.append((index + 1, json.dumps(values), dict(zip(header, values, strict=True)), len(header)))
    return header, rows
