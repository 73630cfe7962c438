"""Raw files as Bronze sees them: listing under the raw root, reading bytes, and the content hash that identifies a
file version, read once together with the checks that keep a hostile text file out of Spark (a NUL byte, a line over
the source's cap, a .gz that is no gzip). Python only, through databricks_jobs.storage (no JVM: serverless and
standard access mode run this through Spark Connect), so the same code reads a local folder, a Unity Catalog Volume
or s3a://.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from databricks_jobs import storage
from databricks_jobs.sources.model import SourceDefinition
from databricks_jobs.storage import S3Access

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
    # How the file is reached when it is on S3: the access it was listed with, so every later read goes there too.
    s3: S3Access = field(default_factory=S3Access, compare=False)


def _raw(raw_root: str, info: storage.FileInfo, s3: S3Access) -> RawFile:
    try:
        relative = storage.relative_to(raw_root, info.uri)
    except ValueError:
        relative = info.uri  # a file named by an absolute path outside the raw root keeps its full name
    return RawFile(info.uri, relative, info.size_bytes, info.modified_ms, s3)


def list_files(raw_root: str, pattern: str, *, s3: S3Access) -> list[RawFile]:
    """Files under raw_root matching a glob, sorted by relative path (deterministic processing order); `s3` reaches
    a raw root on S3 (LakeSettings.s3)."""
    files = [_raw(raw_root, info, s3) for info in storage.glob_files(raw_root, pattern, s3=s3)]
    return sorted(files, key=lambda f: f.relative_path)


def raw_file(raw_root: str, path: str, *, s3: S3Access) -> RawFile:
    """One named file (absolute, or relative to raw_root); RawFileError when it does not exist."""
    absolute = "://" in path or path.startswith(("/", "file:"))
    info = storage.file_info(path if absolute else f"{raw_root.rstrip('/')}/{path}", s3=s3)
    if info is None or info.is_dir:
        raise RawFileError(f"{path}: missing file (no such file under {raw_root})")
    return _raw(raw_root, info, s3)


def read_bytes(file: RawFile, limit: int | None = None) -> Iterator[bytes]:
    """The file's bytes in chunks, the first `limit` bytes only when given."""
    return storage.read_bytes(file.uri, limit, HASH_CHUNK_BYTES, s3=file.s3)


def content_hash(file: RawFile) -> str:
    """sha256 of the file's bytes: the identity Bronze uses to skip a file it already holds."""
    digest = hashlib.sha256()
    for chunk in read_bytes(file):
        digest.update(chunk)
    return digest.hexdigest()


# Decompressed bytes handed to the text checks per step: a small .gz expanding to gigabytes is checked in steps of
# this size, never held whole.
SCAN_STEP_BYTES = 8 << 20
# Decompressed bytes a scan keeps from a text file's start: what the CSV header probe reads (no second read).
HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class FileScan:
    """One read of a raw file: its content hash and, for a text file, why its lines cannot be ingested (or None)."""

    content_hash: str
    problem: str | None = None
    head: bytes = b""  # a text file's first HEAD_BYTES, decompressed (a .gz) as Spark reads it


class TextChecks:
    """Checks a text file's decompressed bytes as they stream by, in C-speed steps (bytes.find / rfind / count):
    no NUL byte (binary content; Silver's tokenizer marks field boundaries with NUL) and no line longer than
    `max_line_bytes` (Spark's text reader would hold a line of any length in memory). Line breaks are LF, CR or
    CRLF, as Spark's text reader splits lines, so a line number here is the line Bronze would number."""

    def __init__(self, name: str, max_line_bytes: int):
        self.name = name
        self.max_line_bytes = max_line_bytes
        self.breaks = 0  # line breaks before the current chunk (CRLF counted once)
        self.offset = 0  # bytes before the current chunk
        self.run = 0  # bytes of the current line before the current chunk
        self.ends_with_cr = False  # the previous chunk ended with CR (a LF first in this one ends no line)
        self.problem: str | None = None
        self.head = b""  # the first HEAD_BYTES fed

    def _breaks(self, data: bytes, end: int) -> int:
        count = data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)
        return count - (1 if self.ends_with_cr and data[:1] == b"\n" and end > 0 else 0)

    def _long_line(self, data: bytes) -> int | None:
        """Position in `data` where the current line passes max_line_bytes, or None. Jumps from line start to the
        last break within max_line_bytes, so a chunk of short lines costs a few rfind calls per max_line_bytes."""
        position, run, size = 0, self.run, len(data)
        while True:
            end = position + self.max_line_bytes - run + 1
            last = max(data.rfind(b"\n", position, end), data.rfind(b"\r", position, end))
            if last >= 0:
                position, run = last + 1, 0
            elif end > size:
                self.run = run + size - position
                return None
            else:
                return position

    def feed(self, data: bytes) -> None:
        if self.problem is not None or not data:
            return
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        nul = data.find(b"\x00")
        if nul >= 0:
            line = self.breaks + self._breaks(data, nul) + 1
            self.problem = (
                f"{self.name}: binary content, not text (NUL byte at offset {self.offset + nul:,}, line {line:,})"
            )
            return
        long_at = self._long_line(data)
        if long_at is not None:
            line = self.breaks + self._breaks(data, long_at) + 1
            self.problem = (
                f"{self.name}: line {line:,} is longer than {self.max_line_bytes:,} bytes, the source's limit "
                "(csv.max_line_bytes); split the line or raise the limit"
            )
            return
        self.breaks += self._breaks(data, len(data))
        self.offset += len(data)
        self.ends_with_cr = data.endswith(b"\r")


def _decompressed(name: str, chunks: Iterator[bytes], checks: TextChecks, update: Callable[[bytes], None]) -> None:
    """Feed `checks` the gunzipped bytes of a .gz file (every gzip member) while hashing its compressed bytes."""
    inflate = zlib.decompressobj(wbits=31)
    for chunk in chunks:
        update(chunk)
        pending = chunk
        while pending and checks.problem is None:
            if inflate.eof:  # a multi-member gzip: the next member starts here
                inflate = zlib.decompressobj(wbits=31)
            try:
                checks.feed(inflate.decompress(pending, SCAN_STEP_BYTES))
            except zlib.error as error:
                checks.problem = f"{name}: not a readable gzip file ({error})"
                break
            pending = inflate.unconsumed_tail or (inflate.unused_data if inflate.eof else b"")
    if checks.problem is None and not inflate.eof:
        checks.problem = f"{name}: truncated gzip file (its compressed stream ends early)"


def scan_text_file(file: RawFile, max_line_bytes: int) -> FileScan:
    """Content hash and text checks of a CSV file in one read (gunzipped when named .gz, as Spark reads it)."""
    digest = hashlib.sha256()
    checks = TextChecks(file.relative_path, max_line_bytes)
    chunks = read_bytes(file)
    if file.relative_path.endswith(".gz"):
        _decompressed(file.relative_path, chunks, checks, digest.update)
    else:
        for chunk in chunks:
            digest.update(chunk)
            if checks.offset == 0 and chunk.startswith(GZIP_MAGIC):
                # Spark's text reader picks the codec by extension: gzip named .csv would be read as binary.
                checks.problem = f"{file.relative_path}: gzip-compressed content in a file not named *.gz; rename it"
            checks.feed(chunk)
    return FileScan(digest.hexdigest(), checks.problem, checks.head)


def scan_file(file: RawFile, definition: SourceDefinition) -> FileScan:
    """The file's content hash and, for a CSV source, its text checks, in one read."""
    if definition.format == "csv":
        return scan_text_file(file, definition.max_line_bytes)
    return FileScan(content_hash(file))
