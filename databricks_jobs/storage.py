"""PLACEHOLDER (local folders only) until the storage module with S3 support lands; same API."""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileInfo:
    uri: str
    name: str
    size_bytes: int
    is_dir: bool
    modified_ms: int | None


def _path(uri: str) -> Path:
    return Path(uri[len("file:") :] if uri.startswith("file:") else uri)


def _info(path: Path) -> FileInfo:
    stat = path.stat()
    return FileInfo(str(path), path.name, stat.st_size, path.is_dir(), int(stat.st_mtime * 1000))


def exists(uri: str) -> bool:
    return _path(uri).exists()


def file_info(uri: str) -> FileInfo | None:
    path = _path(uri)
    return _info(path) if path.exists() else None


def list_dir(uri: str) -> list[FileInfo]:
    path = _path(uri)
    return [_info(p) for p in sorted(path.iterdir())] if path.is_dir() else []


def glob_files(root: str, pattern: str) -> list[FileInfo]:
    base = _path(root)
    found = [p for p in base.rglob("*") if p.is_file() and fnmatch.fnmatch(p.relative_to(base).as_posix(), pattern)]
    return [_info(p) for p in sorted(found)]


def relative_to(root: str, uri: str) -> str:
    return _path(uri).relative_to(_path(root)).as_posix()


def read_bytes(uri: str, limit: int | None = None, chunk_bytes: int = 8 << 20) -> Iterator[bytes]:
    remaining = limit if limit is not None else float("inf")
    with open(_path(uri), "rb") as handle:
        while remaining > 0 and (chunk := handle.read(int(min(chunk_bytes, remaining)))):
            remaining -= len(chunk)
            yield chunk


def read_text(uri: str) -> str:
    return _path(uri).read_text(encoding="utf-8")


def write_text(uri: str, text: str) -> None:
    path = _path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def delete(uri: str, recursive: bool = False) -> None:
    import shutil

    path = _path(uri)
    if path.is_dir() and recursive:
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
