"""Raw files as Bronze sees them: listing under the raw root, reading bytes, and the content hash that identifies a
file version. Python only, through databricks_jobs.storage (no JVM: serverless and standard access mode run this
through Spark Connect), so the same code reads a local folder, a Unity Catalog Volume or s3a://.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from databricks_jobs import storage

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
