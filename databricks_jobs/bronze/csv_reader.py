"""CSV files into Bronze rows (raw lines + line numbers): a header probe in Python, then every new file of a source in
one Spark read, so that thousands of small files are not thousands of Spark jobs (the benchmark pushes tens of
millions of rows)."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession, Window

from databricks_jobs import lake
from databricks_jobs.bronze.csv_line import field_count
from databricks_jobs.bronze.headers import check_header, number_duplicates
from databricks_jobs.bronze.raw_files import FileScan, RawFile, RawFileError
from databricks_jobs.sources.model import SourceDefinition


def _probe_text(file: RawFile, head: bytes) -> str:
    """The file's first bytes as the scan kept them (raw_files.FileScan.head: decompressed, NUL and gzip already
    checked) as text; RawFileError for an empty file or non-UTF-8 content."""
    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the head's limit is fine; anything earlier is not text.
        if error.start < len(head) - 4:
            raise RawFileError(f"{file.relative_path}: not UTF-8 text (invalid byte at offset {error.start})") from None
        return head[: error.start].decode("utf-8")


def _header_record(file: RawFile, head: bytes, definition: SourceDefinition) -> tuple[list[str], int]:
    """(header fields, physical lines the header takes): a quoted column name may hold a line break."""
    text = _probe_text(file, head).lstrip("\ufeff")
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


def probe_csv(file: RawFile, scan: FileScan, definition: SourceDefinition) -> CsvFile:
    """Header probe and check of one scanned CSV file (its first 64 KiB, kept by the scan); RawFileError for a file
    to refuse."""
    header, header_lines = _header_record(file, scan.head, definition)
    check_header(definition, header, file.relative_path)
    return CsvFile(file, scan.content_hash, tuple(header), header_lines)


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
    known = lake.rows_frame(
        spark, records, "_path string, source_file string, content_hash string, _header_lines int, _accepted boolean"
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
