"""S3 through a real S3 API server on loopback: landing, errors that name endpoint and bucket, s3a from Spark, and
export batches that only count as complete when their manifest matches the bucket."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from local_platform.s3.client import S3UnavailableError, check_bucket, s3_client
from local_platform.s3.landing import (
    IncompleteExportError,
    download_batch,
    land_raw_files,
    read_latest_batch_id,
    read_verified_manifest,
)
from local_platform.s3.server import free_port
from local_platform.s3.settings import S3Settings


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_landing_uploads_every_file_once_and_byte_for_byte(tmp_path, s3_settings):
    files = {"ercot/load.csv": b"Hour Ending,COAST\n01/01/2021 01:00,1.5\n", "noaa/a.csv": b"x\n", "SOURCE.txt": b"s"}
    _write_tree(tmp_path, files)
    client = s3_client(s3_settings)

    first = land_raw_files(client, s3_settings, tmp_path)
    second = land_raw_files(client, s3_settings, tmp_path)
    (tmp_path / "noaa/a.csv").write_bytes(b"changed\n")
    third = land_raw_files(client, s3_settings, tmp_path)

    assert sorted(first.uploaded) == sorted(f"raw/{k}" for k in files)
    assert second.uploaded == [] and second.files == 3
    assert third.uploaded == ["raw/noaa/a.csv"]
    for rel in files:
        body = client.get_object(Bucket=s3_settings.landing_bucket, Key=f"raw/{rel}")["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256((tmp_path / rel).read_bytes()).digest()


def test_missing_bucket_error_names_endpoint_and_bucket(s3_settings):
    with pytest.raises(S3UnavailableError) as err:
        check_bucket(s3_client(s3_settings), s3_settings, "no-such-bucket-here")
    assert "no-such-bucket-here" in str(err.value) and s3_settings.endpoint_url in str(err.value)
    assert "missing" in str(err.value)


def test_unreachable_endpoint_error_names_endpoint_and_bucket(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    settings = S3Settings(landing_bucket="landing-dead").with_endpoint(dead, "k", "s")
    with pytest.raises(S3UnavailableError) as err:
        land_raw_files(s3_client(settings), settings, tmp_path)
    assert dead in str(err.value) and "landing-dead" in str(err.value) and "unreachable" in str(err.value)


def _put(client, bucket: str, key: str, body: bytes) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body)


def test_batch_without_manifest_or_with_short_file_is_not_complete(tmp_path, s3_settings):
    client = s3_client(s3_settings)
    bucket, batch = s3_settings.curated_bucket, "20261125T201500Z-3f9a1c2b"
    _put(client, bucket, f"curated/{batch}/gold_x/part-00000.parquet", b"12345")
    with pytest.raises(IncompleteExportError, match="no _manifest.json"):
        read_verified_manifest(client, s3_settings, batch)

    listed_file = {"path": "gold_x/part-00000.parquet", "size_bytes": 9, "row_count": 0}
    deleted = {"row_count": 0, "files": []}
    table = {"name": "gold_x", "row_count": 0, "primary_key": ["k"], "files": [listed_file], "deleted_keys": deleted}
    manifest = {"manifest_version": 2, "batch_id": batch, "format": "parquet", "mode": "full", "tables": [table]}
    manifest["base_batch_id"] = None
    _put(client, bucket, f"curated/{batch}/_manifest.json", json.dumps(manifest).encode())
    with pytest.raises(IncompleteExportError, match="table gold_x: field columns is missing"):
        read_verified_manifest(client, s3_settings, batch)
    table["columns"] = [{"name": "k", "type": "string", "nullable": False}]
    _put(client, bucket, f"curated/{batch}/_manifest.json", json.dumps(manifest).encode())
    with pytest.raises(IncompleteExportError, match="listed with 9 bytes but the bucket has 5"):
        read_verified_manifest(client, s3_settings, batch)

    manifest["tables"][0]["files"][0]["size_bytes"] = 5
    _put(client, bucket, f"curated/{batch}/_manifest.json", json.dumps(manifest).encode())
    _put(client, bucket, "curated/LATEST", f"{batch}\n".encode())
    assert read_latest_batch_id(client, s3_settings) == batch
    assert download_batch(client, s3_settings, batch, tmp_path)["batch_id"] == batch
    assert (tmp_path / batch / "gold_x/part-00000.parquet").read_bytes() == b"12345"
    assert json.loads((tmp_path / batch / "_manifest.json").read_text()) == manifest
    assert (tmp_path / "LATEST").read_text() == f"{batch}\n"  # published as the export does: manifest, then LATEST


@pytest.mark.spark
def test_spark_reads_and_writes_through_s3a(s3_spark, s3_settings):
    """Spark writes Parquet and Delta over s3a://; boto3 + pyarrow (no Spark) read back the same rows."""
    rows = [(i, f"r{i % 3}", i * 1.5) for i in range(100)]
    df = s3_spark.createDataFrame(rows, "id int, region string, demand_mw double")
    parquet_uri = f"s3a://{s3_settings.curated_bucket}/check/parquet"
    delta_uri = f"s3a://{s3_settings.curated_bucket}/check/delta"
    df.coalesce(1).write.mode("overwrite").parquet(parquet_uri)
    df.write.format("delta").mode("overwrite").save(delta_uri)

    client = s3_client(s3_settings)
    keys = [
        o["Key"]
        for o in client.list_objects_v2(Bucket=s3_settings.curated_bucket, Prefix="check/parquet/")["Contents"]
        if o["Key"].endswith(".parquet")
    ]
    table = pq.read_table(io.BytesIO(client.get_object(Bucket=s3_settings.curated_bucket, Key=keys[0])["Body"].read()))
    assert sorted(zip(*table.to_pydict().values(), strict=True)) == rows

    delta_log = client.list_objects_v2(Bucket=s3_settings.curated_bucket, Prefix="check/delta/_delta_log/")
    assert any(o["Key"].endswith("00000000000000000000.json") for o in delta_log["Contents"])
    back = s3_spark.read.format("delta").load(delta_uri)
    assert back.count() == 100 and back.agg({"demand_mw": "sum"}).first()[0] == sum(r[2] for r in rows)
