"""File access outside Spark, in Python only: a local folder, a `file:` URI, a Unity Catalog Volume, or S3.

Serverless compute and standard access mode run the driver's code through Spark Connect, where there is no JVM to
borrow Hadoop's FileSystem from. Volumes are mounted as POSIX paths for Python there (`/Volumes/<catalog>/<schema>/
<volume>/...`), so they go through `os` like a local folder; `s3://` and `s3a://` go through boto3, aimed where the
caller's `S3Access` says: every function here takes it as the keyword `s3`, so two configurations in one process do
not interfere. `S3Access.from_env` is the one place the lake side reads ENERGY_S3_ENDPOINT (path-style addressing
then) and AWS_REGION / AWS_DEFAULT_REGION, once, at an entry point; credentials come from boto3's default chain unless
the access names keys (the local stand-in server's placeholders only). Every URI this module returns keeps the scheme
and spelling of the root it came from, so a listing of `s3a://bucket/raw` hands Spark `s3a://` URIs back.

Docs: "Serverless compute limitations" (https://docs.databricks.com/aws/en/compute/serverless/limitations: only Spark
Connect APIs); "Work with files on Databricks" (https://docs.databricks.com/aws/en/files/: Volumes through Python's
own file utilities, while JVM-based libraries cannot open /Volumes paths).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

S3_SCHEMES = ("s3", "s3a")
DEFAULT_CHUNK_BYTES = 8 << 20
_GLOB_CHARS = frozenset("*?[")


class StorageError(OSError):
    """A storage operation failed; the message names the URI (and, for S3, the endpoint and bucket)."""


@dataclass(frozen=True)
class S3Access:
    """How to reach S3: endpoint_url None = AWS itself (path-style addressing for any other endpoint); region None =
    the SDK's own resolution; keys None = the SDK's default credential chain (environment, profile, instance role).
    Explicit keys are for the local stand-in server's placeholders only: never credentials in a file."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> S3Access:
        """ENERGY_S3_ENDPOINT (unset = AWS) and AWS_REGION / AWS_DEFAULT_REGION: read here only, by the entry point
        that builds the settings (LakeSettings.from_env); credentials stay with the SDK's default chain."""
        return cls(
            endpoint_url=env.get("ENERGY_S3_ENDPOINT") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        )

    @property
    def endpoint_label(self) -> str:
        """For messages: the endpoint as configured, or AWS with its region."""
        return self.endpoint_url or f"AWS S3 ({self.region or 'default region'})"


@dataclass(frozen=True)
class FileInfo:
    uri: str  # full URI/path of the entry, in the same scheme as the root it was listed from
    name: str  # last path component
    size_bytes: int
    is_dir: bool
    modified_ms: int | None  # epoch ms (S3 LastModified, os.stat mtime)


@dataclass(frozen=True)
class _S3Location:
    bucket: str
    key: str  # without a leading or trailing "/"; "" is the bucket itself


def _s3_location(uri: str) -> _S3Location | None:
    parsed = urlparse(uri)
    if parsed.scheme not in S3_SCHEMES:
        return None
    if not parsed.netloc:
        raise ValueError(f"{uri}: an S3 URI needs a bucket (s3a://bucket/key)")
    return _S3Location(parsed.netloc, parsed.path.strip("/"))


def _local_path(uri: str) -> str:
    """The POSIX path of a local folder, `file:` URI or Volume path; ValueError for any other scheme."""
    if uri.startswith("file:"):
        return urlparse(uri).path or "/"
    if "://" in uri or (":" in uri.split("/", 1)[0]):
        raise ValueError(f"{uri}: unsupported scheme (use a local path, file:, /Volumes/..., s3:// or s3a://)")
    return uri


def _join(uri: str, relative: str) -> str:
    return f"{uri.rstrip('/')}/{relative}" if relative else uri


def _name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------------- glob patterns


def _segments(pattern: str) -> list[str]:
    return [s for s in pattern.strip("/").split("/") if s]


def _literal_prefix(pattern: str) -> str:
    """The leading folders of a pattern without glob characters: only they need listing."""
    literal = []
    for segment in _segments(pattern)[:-1]:
        if _GLOB_CHARS & set(segment) or segment == "**":
            break
        literal.append(segment)
    return "/".join(literal)


def _matches(relative: str, pattern: str) -> bool:
    """fnmatch per `/`-separated segment (`*` stays inside one folder, as in Hadoop's glob); `**` = any depth."""
    return _match_segments(relative.split("/"), _segments(pattern))


def _match_segments(parts: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match_segments(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match_segments(parts[1:], pattern[1:])


# ---------------------------------------------------------------------------------------------------- local backend


def _local_info(uri: str, path: str) -> FileInfo | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StorageError(f"{uri}: cannot stat ({error.strerror or error})") from error
    is_dir = os.path.isdir(path)
    return FileInfo(uri, _name(uri), 0 if is_dir else stat.st_size, is_dir, stat.st_mtime_ns // 1_000_000)


def _local_list(uri: str, path: str) -> list[FileInfo]:
    try:
        names = sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        raise StorageError(f"{uri}: cannot list ({error.strerror or error})") from error
    infos = (_local_info(_join(uri, name), os.path.join(path, name)) for name in names)
    return [info for info in infos if info is not None]  # an entry deleted while listing is simply gone


def _local_walk(root: str, path: str, start: str) -> Iterator[FileInfo]:
    """Every file under path/start, as FileInfo with URIs below root."""
    base = os.path.join(path, start) if start else path
    for folder, dirs, files in os.walk(base):
        dirs.sort()
        relative_folder = os.path.relpath(folder, path).replace(os.sep, "/")
        for name in files:
            relative = name if relative_folder == "." else f"{relative_folder}/{name}"
            info = _local_info(_join(root, relative), os.path.join(folder, name))
            if info is not None and not info.is_dir:
                yield info


def _local_read(uri: str, path: str, limit: int | None, chunk_bytes: int) -> Iterator[bytes]:
    remaining = limit
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{uri}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{uri}: is a folder, not a file") from None
    except OSError as error:
        raise StorageError(f"{uri}: cannot open ({error.strerror or error})") from error
    with handle:
        while remaining is None or remaining > 0:
            chunk = handle.read(chunk_bytes if remaining is None else min(chunk_bytes, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _local_write(uri: str, path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    # A hidden temporary name in the same folder, then an atomic rename: a reader sees the old file or the new one,
    # never half of one. open("x") (not mkstemp) so the file gets the umask's permissions, readable by other tools.
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise StorageError(f"{uri}: cannot write ({error.strerror or error})") from error


def _local_delete(uri: str, path: str, recursive: bool) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path) if recursive else os.rmdir(path)
        else:
            os.remove(path)
    except FileNotFoundError:
        return
    except OSError as error:
        hint = " (not empty; pass recursive=True)" if not recursive and os.path.isdir(path) else ""
        raise StorageError(f"{uri}: cannot delete ({error.strerror or error}){hint}") from error


# ------------------------------------------------------------------------------------------------------- S3 backend


def _s3_where(s3: S3Access, location: _S3Location) -> str:
    return f"bucket '{location.bucket}' at endpoint {s3.endpoint_label}"


@functools.lru_cache(maxsize=8)
def s3_client(s3: S3Access) -> Any:
    """The boto3 S3 client for this access, one per access value (the dataclass is frozen, so it is the cache key)."""
    import boto3
    from botocore.config import Config

    # A custom endpoint (the stand-in server, MinIO, a VPC endpoint by IP) has no virtual-host DNS for bucket names.
    addressing = {"addressing_style": "path"} if s3.endpoint_url else {}
    retries = {"max_attempts": 3, "mode": "standard"}
    config = Config(s3=addressing, retries=retries, connect_timeout=5, read_timeout=60)
    # Keys None: boto3's default chain (environment, profile, instance role) finds the credentials.
    keys = {"aws_access_key_id": s3.access_key_id, "aws_secret_access_key": s3.secret_access_key}
    return boto3.session.Session(**keys).client(
        "s3", endpoint_url=s3.endpoint_url, region_name=s3.region, config=config
    )


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


@contextmanager
def _s3_errors(s3: S3Access, uri: str, location: _S3Location, action: str) -> Iterator[None]:
    """botocore's errors as StorageError naming the URI, bucket and endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    where = _s3_where(s3, location)
    try:
        yield
    except EndpointConnectionError as error:
        raise StorageError(f"{uri}: cannot {action}: S3 endpoint unreachable ({where}): {error}") from error
    except ClientError as error:
        code = _error_code(error)
        if code == "NoSuchBucket":
            raise StorageError(f"{uri}: cannot {action}: S3 bucket missing ({where} does not exist)") from error
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise StorageError(f"{uri}: cannot {action}: S3 access denied ({code}) on {where}") from error
        raise StorageError(f"{uri}: cannot {action}: S3 error {code} on {where}: {error}") from error
    except BotoCoreError as error:
        raise StorageError(f"{uri}: cannot {action}: S3 error on {where}: {error}") from error


def _s3_pages(s3: S3Access, uri: str, location: _S3Location, prefix: str, delimiter: str | None) -> Iterator[dict]:
    kwargs = {"Bucket": location.bucket, "Prefix": prefix, **({"Delimiter": delimiter} if delimiter else {})}
    with _s3_errors(s3, uri, location, "list"):
        yield from s3_client(s3).get_paginator("list_objects_v2").paginate(**kwargs)


def _folder_prefix(location: _S3Location) -> str:
    return f"{location.key}/" if location.key else ""


def _object_info(uri: str, size: int, modified: Any) -> FileInfo:
    return FileInfo(uri, _name(uri), int(size), False, int(modified.timestamp() * 1000) if modified else None)


def _s3_info(s3: S3Access, uri: str, location: _S3Location) -> FileInfo | None:
    from botocore.exceptions import ClientError

    client = s3_client(s3)
    if location.key:
        try:
            with _s3_errors(s3, uri, location, "stat"):
                head = client.head_object(Bucket=location.bucket, Key=location.key)
            return _object_info(uri, head["ContentLength"], head.get("LastModified"))
        except StorageError as error:
            if not (isinstance(error.__cause__, ClientError) and _error_code(error.__cause__) in ("404", "NoSuchKey")):
                raise
    # No object: a "folder" exists while some key lies below it (S3 has no empty folders).
    with _s3_errors(s3, uri, location, "stat"):
        below = client.list_objects_v2(Bucket=location.bucket, Prefix=_folder_prefix(location), MaxKeys=1)
    if location.key and not below.get("KeyCount"):
        return None
    return FileInfo(uri, _name(uri) if location.key else location.bucket, 0, True, None)


def _s3_list(s3: S3Access, uri: str, location: _S3Location) -> list[FileInfo]:
    prefix = _folder_prefix(location)
    infos = []
    for page in _s3_pages(s3, uri, location, prefix, "/"):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(prefix) :].rstrip("/")
            infos.append(FileInfo(_join(uri, name), name, 0, True, None))
        for obj in page.get("Contents", []):
            name = obj["Key"][len(prefix) :]
            if name:  # the key equal to the prefix is a folder marker some tools write, not a child
                infos.append(_object_info(_join(uri, name), obj["Size"], obj.get("LastModified")))
    return sorted(infos, key=lambda info: info.name)


def _s3_walk(s3: S3Access, root: str, location: _S3Location, start: str) -> Iterator[FileInfo]:
    prefix = _folder_prefix(location)
    for page in _s3_pages(s3, root, location, prefix + (f"{start}/" if start else ""), None):
        for obj in page.get("Contents", []):
            relative = obj["Key"][len(prefix) :]
            if relative and not relative.endswith("/"):
                yield _object_info(_join(root, relative), obj["Size"], obj.get("LastModified"))


def _s3_read(s3: S3Access, uri: str, location: _S3Location, limit: int | None, chunk_bytes: int) -> Iterator[bytes]:
    if limit is not None and limit <= 0:
        return
    kwargs = {"Bucket": location.bucket, "Key": location.key}
    if limit is not None:
        kwargs["Range"] = f"bytes=0-{limit - 1}"
    try:
        with _s3_errors(s3, uri, location, "read"):
            body = s3_client(s3).get_object(**kwargs)["Body"]
    except StorageError as error:
        code = _error_code(error.__cause__)
        if code in ("NoSuchKey", "404"):
            raise FileNotFoundError(f"{uri}: no such object in {_s3_where(s3, location)}") from None
        if code == "InvalidRange":  # a byte range of an empty object
            return
        raise
    remaining = limit
    try:
        with _s3_errors(s3, uri, location, "read"):
            for chunk in body.iter_chunks(chunk_bytes):
                if remaining is not None:
                    chunk = chunk[:remaining]
                    remaining -= len(chunk)
                if chunk:
                    yield chunk
                if remaining == 0:
                    return
    finally:
        body.close()


def _s3_write(s3: S3Access, uri: str, location: _S3Location, data: bytes) -> None:
    if not location.key:
        raise ValueError(f"{uri}: names a bucket, not an object")
    with _s3_errors(s3, uri, location, "write"):
        s3_client(s3).put_object(Bucket=location.bucket, Key=location.key, Body=data)


def _s3_delete(s3: S3Access, uri: str, location: _S3Location, recursive: bool) -> None:
    client = s3_client(s3)
    if not recursive:
        info = _s3_info(s3, uri, location)
        if info is not None and info.is_dir:
            raise StorageError(f"{uri}: cannot delete: a folder with objects below it (pass recursive=True)")
        with _s3_errors(s3, uri, location, "delete"):
            client.delete_object(Bucket=location.bucket, Key=location.key)
        return
    keys = [location.key] if location.key else []
    for page in _s3_pages(s3, uri, location, _folder_prefix(location), None):
        keys += [obj["Key"] for obj in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
        batch = {"Objects": [{"Key": key} for key in keys[start : start + 1000]], "Quiet": True}
        with _s3_errors(s3, uri, location, "delete"):
            failed = client.delete_objects(Bucket=location.bucket, Delete=batch).get("Errors", [])
        if failed:
            first = failed[0]
            raise StorageError(
                f"{uri}: cannot delete {len(failed)} object(s) in {_s3_where(s3, location)}, "
                f"first {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )


# ------------------------------------------------------------------------------------------------------ public API


def _dispatch(uri: str, on_s3: Callable[[_S3Location], Any], on_local: Callable[[str], Any]) -> Any:
    location = _s3_location(uri)
    return on_s3(location) if location is not None else on_local(_local_path(uri))


def file_info(uri: str, *, s3: S3Access) -> FileInfo | None:
    """The entry at uri (a file, or a folder with size 0), or None when there is none. `s3`: how to reach S3,
    used for s3:// and s3a:// URIs only (as in every function here)."""
    return _dispatch(uri, lambda loc: _s3_info(s3, uri, loc), lambda path: _local_info(uri, path))


def exists(uri: str, *, s3: S3Access) -> bool:
    return file_info(uri, s3=s3) is not None


def list_dir(uri: str, *, s3: S3Access) -> list[FileInfo]:
    """Direct children, sorted by name (S3: one level under the prefix); [] when uri is missing or a file."""
    return _dispatch(uri, lambda loc: _s3_list(s3, uri, loc), lambda path: _local_list(uri, path))


def glob_files(root: str, pattern: str, *, s3: S3Access) -> list[FileInfo]:
    """Files under root whose path relative to root matches pattern (fnmatch per `/`-separated segment, `**` for
    any depth), sorted by uri; never folders. [] when root is missing."""
    start = _literal_prefix(pattern)
    found = _dispatch(
        root,
        lambda loc: _s3_walk(s3, root, loc, start),
        lambda path: _local_walk(root, path, start),
    )
    return sorted((f for f in found if _matches(relative_to(root, f.uri), pattern)), key=lambda f: f.uri)


def relative_to(root: str, uri: str) -> str:
    """The path of uri below root ("a/b.csv"); ValueError when uri is not below root."""
    root_s3, uri_s3 = _s3_location(root), _s3_location(uri)
    if root_s3 is not None and uri_s3 is not None and root_s3.bucket == uri_s3.bucket:
        base, path = root_s3.key, uri_s3.key
    elif root_s3 is None and uri_s3 is None:
        base, path = os.path.abspath(_local_path(root)), os.path.abspath(_local_path(uri))
        base, path = base.strip("/"), path.strip("/")
    else:
        raise ValueError(f"{uri} is not below {root}")
    if base and not path.startswith(base + "/"):
        raise ValueError(f"{uri} is not below {root}")
    relative = path[len(base) + 1 :] if base else path
    if not relative:
        raise ValueError(f"{uri} is {root} itself, not a path below it")
    return relative


def read_bytes(
    uri: str, limit: int | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES, *, s3: S3Access
) -> Iterator[bytes]:
    """The file's bytes in chunks of at most chunk_bytes, the first `limit` bytes only when given.
    FileNotFoundError naming uri when there is no such file."""
    if chunk_bytes <= 0:
        raise ValueError(f"{uri}: chunk_bytes must be positive, got {chunk_bytes}")
    location = _s3_location(uri)
    if location is not None:
        return _s3_read(s3, uri, location, limit, chunk_bytes)
    return _local_read(uri, _local_path(uri), limit, chunk_bytes)


def read_text(uri: str, *, s3: S3Access) -> str:
    """The whole file as UTF-8 text."""
    data = b"".join(read_bytes(uri, s3=s3))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{uri}: not UTF-8 text (invalid byte at offset {error.start})") from None


def write_text(uri: str, text: str, *, s3: S3Access) -> None:
    """Replace the file with text (UTF-8) as a whole: a reader sees the old content or the new, never a part."""
    data = text.encode("utf-8")
    _dispatch(uri, lambda loc: _s3_write(s3, uri, loc, data), lambda path: _local_write(uri, path, data))


def delete(uri: str, recursive: bool = False, *, s3: S3Access) -> None:
    """Delete a file, or a folder (recursive=True for a non-empty one); nothing to delete is not an error."""
    _dispatch(uri, lambda loc: _s3_delete(s3, uri, loc, recursive), lambda path: _local_delete(uri, path, recursive))
