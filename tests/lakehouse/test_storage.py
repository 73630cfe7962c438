"""databricks_jobs.storage: file access without Spark, checked against os (local folders, `file:` URIs) and against
boto3 on the real moto S3 API server on 127.0.0.1 (s3:// and s3a://)."""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from databricks_jobs import storage
from databricks_jobs.bronze.raw_files import RawFileError, content_hash, list_files, raw_file
from local_platform.s3.client import s3_client
from local_platform.s3.server import free_port
from local_platform.s3.settings import process_environment

TREE = {
    "top.csv": b"a,b\n1,2\n",
    "load/2021/jan.csv": b"Hour Ending,COAST\n01/01/2021 01:00,1.5\n",
    "load/2021/feb.csv": b"x" * 1000,
    "load/2021/notes.txt": b"not data",
    "load/2022/jan.csv": b"",
    "weather/station_hourly.csv": bytes(range(256)),
}


def _payload(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "raw"
    for relative, data in TREE.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return root


# ------------------------------------------------------------------------------------------------------------ local


@pytest.mark.parametrize("as_uri", [False, True], ids=["path", "file-uri"])
def test_list_dir_matches_os(tree, as_uri):
    root = f"file://{tree}" if as_uri else str(tree)
    listed = storage.list_dir(f"{root}/load/2021")
    folder = tree / "load/2021"
    assert [f.name for f in listed] == sorted(os.listdir(folder))
    for info in listed:
        stat = os.stat(folder / info.name)
        assert info.uri == f"{root}/load/2021/{info.name}"
        assert (info.size_bytes, info.is_dir, info.modified_ms) == (stat.st_size, False, stat.st_mtime_ns // 10**6)
    top = {f.name: f.is_dir for f in storage.list_dir(root)}
    assert top == {"top.csv": False, "load": True, "weather": True}
    assert storage.list_dir(f"{root}/no-such-folder") == []
    assert storage.list_dir(f"{root}/top.csv") == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("load/2021/*.csv", ["load/2021/feb.csv", "load/2021/jan.csv"]),
        ("load/*/jan.csv", ["load/2021/jan.csv", "load/2022/jan.csv"]),
        ("*.csv", ["top.csv"]),  # `*` stays inside one folder
        ("**/*.csv", [k for k in sorted(TREE) if k.endswith(".csv")]),
        ("load/**", ["load/2021/feb.csv", "load/2021/jan.csv", "load/2021/notes.txt", "load/2022/jan.csv"]),
        ("weather/station_[h]ourly.csv", ["weather/station_hourly.csv"]),
        ("load", []),  # a folder is never a match
        ("nothing/*.csv", []),
    ],
)
def test_glob_files_relative_to_root(tree, pattern, expected):
    found = storage.glob_files(str(tree), pattern)
    assert [storage.relative_to(str(tree), f.uri) for f in found] == expected
    assert [f.uri for f in found] == sorted(f.uri for f in found)
    for info in found:
        assert not info.is_dir and info.size_bytes == os.path.getsize(info.uri)


def test_glob_files_keeps_the_file_uri_form_and_a_missing_root_is_empty(tree):
    root = f"file:{tree}"
    found = storage.glob_files(root, "load/2021/*.csv")
    assert [f.uri for f in found] == [f"{root}/load/2021/feb.csv", f"{root}/load/2021/jan.csv"]
    assert storage.glob_files(str(tree / "absent"), "**/*.csv") == []


@pytest.mark.parametrize(("limit", "chunk_bytes"), [(None, 7), (None, 1 << 20), (10, 3), (0, 5), (10**9, 4096)])
def test_read_bytes_is_byte_exact(tmp_path, limit, chunk_bytes):
    data = _payload(100_003)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    chunks = list(storage.read_bytes(str(path), limit, chunk_bytes))
    assert b"".join(chunks) == data[:limit]
    assert all(0 < len(c) <= chunk_bytes for c in chunks)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/missing.csv: no such file"):
        b"".join(storage.read_bytes(str(tmp_path / "missing.csv")))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{tmp_path}/latin1.txt: not UTF-8 text \(invalid byte at offset 3\)"):
        storage.read_text(str(tmp_path / "latin1.txt"))


def test_write_text_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "batch" / "_manifest.json"
    storage.write_text(str(target), "first\n")
    storage.write_text(str(target), "second ✓\n")
    assert target.read_bytes() == "second ✓\n".encode()
    assert storage.read_text(str(target)) == "second ✓\n"
    assert os.listdir(target.parent) == ["_manifest.json"]
    reference = tmp_path / "reference"
    reference.write_text("x")  # a file made the ordinary way: the same permissions as the umask gives
    assert target.stat().st_mode == reference.stat().st_mode


def test_write_text_failure_keeps_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "LATEST"
    storage.write_text(str(target), "old\n")

    def refuse(source, destination):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(storage.StorageError, match=f"{target}: cannot write"):
        storage.write_text(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["LATEST"]


def test_file_info_exists_and_delete(tree):
    root = str(tree)
    info = storage.file_info(f"{root}/top.csv")
    assert info == storage.FileInfo(
        f"{root}/top.csv", "top.csv", len(TREE["top.csv"]), False, os.stat(tree / "top.csv").st_mtime_ns // 10**6
    )
    assert storage.file_info(f"{root}/load").is_dir and storage.file_info(f"{root}/nope") is None
    assert storage.exists(f"{root}/load/2021/jan.csv") and not storage.exists(f"{root}/nope")

    storage.delete(f"{root}/top.csv")
    storage.delete(f"{root}/top.csv")  # nothing left to delete is not an error
    assert not (tree / "top.csv").exists()
    with pytest.raises(storage.StorageError, match=f"{root}/load: cannot delete .*recursive=True"):
        storage.delete(f"{root}/load")
    storage.delete(f"{root}/load", recursive=True)
    assert sorted(os.listdir(tree)) == ["weather"]


def test_relative_to_and_unsupported_schemes():
    assert storage.relative_to("/Volumes/c/s/raw/", "/Volumes/c/s/raw/a/b.csv") == "a/b.csv"
    assert storage.relative_to("file:/data/raw", "/data/raw/x.csv") == "x.csv"
    assert storage.relative_to("s3://bucket/raw", "s3a://bucket/raw/a/b.csv") == "a/b.csv"
    assert storage.relative_to("s3a://bucket", "s3a://bucket/b.csv") == "b.csv"
    for root, uri in [("/data/raw", "/data/rawer/x.csv"), ("s3a://b1/raw", "s3a://b2/raw/x"), ("/raw", "s3a://b/raw")]:
        with pytest.raises(ValueError, match="is not below"):
            storage.relative_to(root, uri)
    for uri in ("dbfs:/mnt/raw/x.csv", "abfss://c@account.dfs.core.windows.net/x", "gs://bucket/x"):
        with pytest.raises(ValueError, match=f"{uri}: unsupported scheme"):
            storage.exists(uri)


def test_readers_on_a_local_folder(tree):
    files = list_files(str(tree), "load/*/*.csv")
    assert [f.relative_path for f in files] == ["load/2021/feb.csv", "load/2021/jan.csv", "load/2022/jan.csv"]
    for file in files:
        assert file.uri == f"{tree}/{file.relative_path}"
        assert file.size_bytes == len(TREE[file.relative_path])
        assert file.modified_ms == os.stat(tree / file.relative_path).st_mtime_ns // 10**6
        assert content_hash(file.uri) == hashlib.sha256(TREE[file.relative_path]).hexdigest()
    assert raw_file(str(tree), "top.csv").relative_path == "top.csv"
    assert raw_file(str(tree), str(tree / "top.csv")).relative_path == "top.csv"
    with pytest.raises(RawFileError, match="load/2023/x.csv: missing file"):
        raw_file(str(tree), "load/2023/x.csv")
    with pytest.raises(RawFileError, match="load: missing file"):
        raw_file(str(tree), "load")


def test_process_environment_restores_what_was_there(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("ENERGY_S3_ENDPOINT", raising=False)
    with process_environment({"AWS_REGION": "us-east-1", "ENERGY_S3_ENDPOINT": "http://127.0.0.1:1"}):
        assert (os.environ["AWS_REGION"], os.environ["ENERGY_S3_ENDPOINT"]) == ("us-east-1", "http://127.0.0.1:1")
    assert os.environ["AWS_REGION"] == "eu-west-1" and "ENERGY_S3_ENDPOINT" not in os.environ


# --------------------------------------------------------------------------------------------------------------- S3


@pytest.fixture()
def bucket(s3_env):
    """The landing bucket, filled through boto3 directly (not through storage) with TREE under raw/ plus a neighbour."""
    client = s3_client(s3_env)
    for relative, data in TREE.items():
        client.put_object(Bucket=s3_env.landing_bucket, Key=f"raw/{relative}", Body=data)
    client.put_object(Bucket=s3_env.landing_bucket, Key="rawer/not-below-raw.csv", Body=b"x")
    return s3_env.landing_bucket


def _head(s3_settings, bucket: str, key: str) -> dict:
    return s3_client(s3_settings).head_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize("scheme", ["s3a", "s3"])
def test_s3_list_dir_matches_boto3(s3_env, bucket, scheme):
    root = f"{scheme}://{bucket}/raw"
    top = [(f.name, f.is_dir) for f in storage.list_dir(root)]
    assert top == [("load", True), ("top.csv", False), ("weather", True)]
    listed = storage.list_dir(f"{root}/load/2021/")
    assert [f.name for f in listed] == ["feb.csv", "jan.csv", "notes.txt"]
    for info in listed:
        head = _head(s3_env, bucket, f"raw/load/2021/{info.name}")
        assert info.uri == f"{root}/load/2021/{info.name}"
        assert info.size_bytes == head["ContentLength"] == len(TREE[f"load/2021/{info.name}"])
        assert info.modified_ms == int(head["LastModified"].timestamp() * 1000)
    assert storage.list_dir(f"{root}/absent") == []


def test_s3_glob_files_keeps_s3a_and_stays_below_the_root(s3_env, bucket):
    root = f"s3a://{bucket}/raw"
    found = storage.glob_files(root, "**/*.csv")
    assert [f.uri for f in found] == [f"{root}/{k}" for k in sorted(TREE) if k.endswith(".csv")]
    assert [f.size_bytes for f in found] == [len(TREE[k]) for k in sorted(TREE) if k.endswith(".csv")]
    assert [f.uri for f in storage.glob_files(root, "load/*/jan.csv")] == [
        f"{root}/load/2021/jan.csv",
        f"{root}/load/2022/jan.csv",
    ]
    assert storage.glob_files(f"s3a://{bucket}/absent", "**") == []


@pytest.mark.parametrize(("limit", "chunk_bytes"), [(None, 65_536), (None, 1 << 20), (1000, 64), (0, 10), (10**9, 1)])
def test_s3_read_bytes_is_byte_exact(s3_env, limit, chunk_bytes):
    data = _payload(300_007) if chunk_bytes > 1 else _payload(3_001)
    s3_client(s3_env).put_object(Bucket=s3_env.curated_bucket, Key="blob.bin", Body=data)
    chunks = list(storage.read_bytes(f"s3a://{s3_env.curated_bucket}/blob.bin", limit, chunk_bytes))
    assert b"".join(chunks) == data[:limit]
    assert all(0 < len(c) <= chunk_bytes for c in chunks)


def test_s3_read_of_an_empty_object_with_a_limit(s3_env, bucket):
    assert b"".join(storage.read_bytes(f"s3a://{bucket}/raw/load/2022/jan.csv", 4096)) == b""
    assert storage.read_text(f"s3a://{bucket}/raw/load/2022/jan.csv") == ""


def test_s3_write_text_is_one_object_read_back_by_boto3(s3_env):
    uri = f"s3a://{s3_env.curated_bucket}/curated/20261125T201500Z-3f9a1c2b/_manifest.json"
    storage.write_text(uri, '{"tables": ["ä"]}')
    storage.write_text(uri, '{"tables": ["ö"]}')
    client = s3_client(s3_env)
    body = client.get_object(Bucket=s3_env.curated_bucket, Key="curated/20261125T201500Z-3f9a1c2b/_manifest.json")
    assert body["Body"].read() == '{"tables": ["ö"]}'.encode()
    assert storage.read_text(uri) == '{"tables": ["ö"]}'
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_env.curated_bucket)["Contents"]]
    assert keys == ["curated/20261125T201500Z-3f9a1c2b/_manifest.json"]


def test_s3_file_info_exists_and_delete(s3_env, bucket):
    root = f"s3a://{bucket}/raw"
    info = storage.file_info(f"{root}/top.csv")
    head = _head(s3_env, bucket, "raw/top.csv")
    expected = storage.FileInfo(f"{root}/top.csv", "top.csv", 8, False, int(head["LastModified"].timestamp() * 1000))
    assert info == expected
    assert storage.file_info(f"{root}/load") == storage.FileInfo(f"{root}/load", "load", 0, True, None)
    assert storage.file_info(f"{root}/lo") is None and not storage.exists(f"{root}/nope.csv")
    assert storage.exists(f"s3a://{bucket}")

    storage.delete(f"{root}/top.csv")
    storage.delete(f"{root}/top.csv")
    with pytest.raises(storage.StorageError, match=f"{root}/load: cannot delete: a folder"):
        storage.delete(f"{root}/load")
    storage.delete(f"{root}/load", recursive=True)
    left = [o["Key"] for o in s3_client(s3_env).list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(left) == ["raw/weather/station_hourly.csv", "rawer/not-below-raw.csv"]


def test_s3_errors_name_uri_bucket_and_endpoint(s3_env, bucket, monkeypatch):
    missing = f"s3a://{bucket}/raw/missing.csv"
    with pytest.raises(FileNotFoundError) as error:
        b"".join(storage.read_bytes(missing))
    assert missing in str(error.value) and bucket in str(error.value) and s3_env.endpoint_url in str(error.value)

    with pytest.raises(storage.StorageError) as error:
        storage.list_dir("s3a://no-such-bucket-here/raw")
    assert "no-such-bucket-here" in str(error.value) and "bucket missing" in str(error.value)
    assert s3_env.endpoint_url in str(error.value)

    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ENERGY_S3_ENDPOINT", dead)
    with pytest.raises(storage.StorageError) as error:
        storage.exists(f"s3a://{bucket}/raw/top.csv")
    assert dead in str(error.value) and bucket in str(error.value) and "unreachable" in str(error.value)


def test_readers_on_s3a(s3_env, bucket):
    root = f"s3a://{bucket}/raw"
    files = list_files(root, "load/2021/*.csv")
    assert [(f.uri, f.relative_path) for f in files] == [
        (f"{root}/load/2021/feb.csv", "load/2021/feb.csv"),
        (f"{root}/load/2021/jan.csv", "load/2021/jan.csv"),
    ]
    for file in files:
        assert file.size_bytes == len(TREE[file.relative_path]) and file.modified_ms is not None
        assert content_hash(file.uri) == hashlib.sha256(TREE[file.relative_path]).hexdigest()
    assert raw_file(root, "weather/station_hourly.csv").uri == f"{root}/weather/station_hourly.csv"
    with pytest.raises(RawFileError, match="weather/none.csv: missing file"):
        raw_file(root, "weather/none.csv")
