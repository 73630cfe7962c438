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
from collections.abc import Iterator
from dataclasses import dataclass

import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

from databricks_jobs import storage
from databricks_jobs.sources.model import SourceDefinition

HEADER_PROBE_BYTES = 1 << 16
HASH_CHUNK_BYTES = 8 << 20


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
    return needed


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


def read_csv_header(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> list[str]:
    """The header fields of a CSV file; RawFileError for empty, binary or non-UTF-8 content."""
    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    probe = b"".join(read_bytes(file.uri, HEADER_PROBE_BYTES))
    if b"\x00" in probe:
        offset = probe.index(b"\x00")
        raise RawFileError(f"{file.relative_path}: binary content, not text (NUL byte at offset {offset})")
    try:
        text = probe.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the probe limit is fine; anything earlier is not text.
        if error.start < len(probe) - 4:
            raise RawFileError(f"{file.relative_path}: not UTF-8 text (invalid byte at offset {error.start})") from None
        text = probe[: error.start].decode("utf-8")
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise RawFileError(f"{file.relative_path}: empty file (no header line)")
    header = next(csv.reader([first_line], delimiter=definition.delimiter))
    return [h.strip() for h in header]


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
    tagged = lines.select(
        F.col("value").alias("raw_line"),
        F.spark_partition_id().alias("_pid"),
        F.monotonically_increasing_id().alias("_mid"),
    )
    counts = {r["_pid"]: r["count"] for r in tagged.groupBy("_pid").count().collect()}
    offsets, total = {}, 0
    for pid in sorted(counts):
        offsets[pid] = total
        total += counts[pid]
    offset = F.create_map(*[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))]) if offsets else None
    position = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
    start = F.element_at(offset, F.col("_pid")) if offset is not None else F.lit(0)
    return tagged.select("raw_line", (start + position + 1).cast("long").alias("source_row_number")), total


def read_csv_rows(
    spark: SparkSession, file: RawFile, header: list[str], definition: SourceDefinition
) -> tuple[DataFrame, int]:
    """Data rows of one CSV file and their count.

    Columns: source_row_number (physical line, header = line 1), raw_line, raw_fields, field_count.
    """
    lines, line_count = number_lines(spark.read.text(file.uri))
    df = lines.where(F.col("source_row_number") > 1)
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
    return rows, line_count - 1


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
    rows = []
    for index in range(header_index + 1, len(cells)):
        values = cells[index]
        if all(v is None for v in values):
            continue  # an empty spreadsheet row holds nothing to lose
        rows.append((index + 1, json.dumps(values), dict(zip(header, values, strict=True)), len(header)))
    return header, rows
