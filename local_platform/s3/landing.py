"""Raw landing (local files -> landing bucket) and reading a curated export batch back from S3, with boto3."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from databricks_jobs.export.manifest import (
    LATEST_FILE,
    MANIFEST_FILE,
    ManifestError,
    listed_files,
    parse_manifest,
    publish,
)
from databricks_jobs.storage import S3Access
from local_platform.s3.client import check_bucket
from local_platform.s3.settings import S3Settings

# Provenance notes travel with the data; editor and OS litter does not.
_SKIPPED_NAMES = {".DS_Store"}


@dataclass(frozen=True)
class LandingResult:
    uploaded: list[str]
    unchanged: list[str]

    @property
    def files(self) -> int:
        return len(self.uploaded) + len(self.unchanged)


class IncompleteExportError(RuntimeError):
    """An export batch whose manifest is missing or does not match the objects in the bucket."""


def _md5_hex(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remote_etag(client, bucket: str, key: str) -> str | None:
    try:
        return client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise


def land_raw_files(client, settings: S3Settings, local_root: Path) -> LandingResult:
    """Upload every file under local_root to s3://landing_bucket/landing_prefix/<relative path>.

    Idempotent: a file whose object already has the same MD5 (single-part ETag) is not uploaded again.
    """
    check_bucket(client, settings, settings.landing_bucket)
    uploaded: list[str] = []
    unchanged: list[str] = []
    for path in sorted(p for p in local_root.rglob("*") if p.is_file() and p.name not in _SKIPPED_NAMES):
        key = f"{settings.landing_prefix}/{path.relative_to(local_root).as_posix()}"
        if _remote_etag(client, settings.landing_bucket, key) == _md5_hex(path):
            unchanged.append(key)
            continue
        # put_object (not the multipart transfer manager) keeps the ETag an MD5 for the idempotency check above.
        client.put_object(Bucket=settings.landing_bucket, Key=key, Body=path.read_bytes())
        uploaded.append(key)
    return LandingResult(uploaded, unchanged)


def read_latest_batch_id(client, settings: S3Settings) -> str | None:
    """The batch id in {export}/LATEST, or None when nothing has been exported yet."""
    check_bucket(client, settings, settings.curated_bucket)
    key = f"{settings.curated_prefix}/{LATEST_FILE}"
    try:
        body = client.get_object(Bucket=settings.curated_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return body.decode().strip()


def read_verified_manifest(client, settings: S3Settings, batch_id: str) -> dict:
    """The batch's _manifest.json after checking every file it lists exists with the listed size."""
    batch_prefix = f"{settings.curated_prefix}/{batch_id}"
    where = f"s3://{settings.curated_bucket}/{batch_prefix} at {settings.endpoint_label}"
    try:
        body = client.get_object(Bucket=settings.curated_bucket, Key=f"{batch_prefix}/{MANIFEST_FILE}")["Body"].read()
    except ClientError as exc:
        raise IncompleteExportError(f"export batch {where} has no {MANIFEST_FILE}: it is not complete") from exc
    try:
        manifest = parse_manifest(body.decode("utf-8"), f"export batch {where}")
    except ManifestError as exc:
        raise IncompleteExportError(str(exc)) from None
    sizes = _object_sizes(client, settings.curated_bucket, batch_prefix + "/")
    for table in manifest["tables"]:
        for file in listed_files(table):
            actual = sizes.get(file["path"])
            if actual != file["size_bytes"]:
                raise IncompleteExportError(
                    f"export batch {where}: {file['path']} is listed with {file['size_bytes']} bytes "
                    f"but the bucket has {actual if actual is not None else 'no such object'}"
                )
    return manifest


def _object_sizes(client, bucket: str, prefix: str) -> dict[str, int]:
    """Relative key -> size of every object under prefix."""
    sizes: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            sizes[obj["Key"][len(prefix) :]] = int(obj["Size"])
    return sizes


def download_batch(client, settings: S3Settings, batch_id: str, destination: Path) -> dict:
    """Copy a verified export batch (Parquet files + manifest) to destination/batch_id and point destination's LATEST
    at it; returns the manifest.

    The local warehouse has no route to S3 (Snowflake would read it through an external stage), so the loader gets a
    local copy. The manifest, then LATEST, are written last by the export's own publish, so a killed download never
    looks complete.
    """
    manifest = read_verified_manifest(client, settings, batch_id)
    batch_dir = destination / batch_id
    batch_prefix = f"{settings.curated_prefix}/{batch_id}"
    for table in manifest["tables"]:
        for file in listed_files(table):
            target = batch_dir / file["path"]
            if target.exists() and target.stat().st_size == file["size_bytes"]:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(settings.curated_bucket, f"{batch_prefix}/{file['path']}", str(target))
    publish(str(destination), manifest, s3=S3Access())  # a local folder: no S3 to reach
    return manifest
