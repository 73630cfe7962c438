"""databricks_jobs.storage: file access without Spark, checked against os (local folders, `file:` URIs) and against
boto3 on the real moto S3 API server on 127.0.0.1 (s3:// and s3a://)."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import replace

import pytest

from databricks_jobs import storage
from databricks_jobs.bronze.raw_files import RawFileError, content_hash, list_files, raw_file
from databricks_jobs.settings import LakeSettings
from databricks_jobs.storage import S3Access
from local_platform.s3.client import ensure_bucket, s3_client
from local_platform.s3.server import MotoS3Server, free_port
from local_platform.s3.settings import S3Settings

# Local paths only: the access is never used (no s3:// URI), which the functions take explicitly all the same.
LOCAL = S3Access()
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
    listed = storage.list_dir(f"{root}/load/2021", s3=LOCAL)
    folder = tree / "load/2021"
    assert [f.name for f in listed] == sorted(os.listdir(folder))
    for info in listed:
        stat = os.stat(folder / info.name)
        assert info.uri == f"{root}/load/2021/{info.name}"
        assert (info.size_bytes, info.is_dir, info.modified_ms) == (stat.st_size, False, stat.st_mtime_ns // 10**6)
    top = {f.name: f.is_dir for f in storage.list_dir(root, s3=LOCAL)}
    assert top == {"top.csv": False, "load": True, "weather": True}
    assert storage.list_dir(f"{root}/no-such-folder", s3=LOCAL) == []
    assert storage.list_dir(f"{root}/top.csv", s3=LOCAL) == []


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
    found = storage.glob_files(str(tree), pattern, s3=LOCAL)
    assert [storage.relative_to(str(tree), f.uri) for f in found] == expected
    assert [f.uri for f in found] == sorted(f.uri for f in found)
    for info in found:
        assert not info.is_dir and info.size_bytes == os.path.getsize(info.uri)


def test_glob_files_keeps_the_file_uri_form_and_a_missing_root_is_empty(tree):
    root = f"file:{tree}"
    found = storage.glob_files(root, "load/2021/*.csv", s3=LOCAL)
    assert [f.uri for f in found] == [f"{root}/load/2021/feb.csv", f"{root}/load/2021/jan.csv"]
    assert storage.glob_files(str(tree / "absent"), "**/*.csv", s3=LOCAL) == []


@pytest.mark.parametrize(("limit", "chunk_bytes"), [(None, 7), (None, 1 << 20), (10, 3), (0, 5), (10**9, 4096)])
def test_read_bytes_is_byte_exact(tmp_path, limit, chunk_bytes):
    data = _payload(100_003)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    chunks = list(storage.read_bytes(str(path), limit, chunk_bytes, s3=LOCAL))
    assert b"".join(chunks) == data[:limit]
    assert all(0 < len(c) <= chunk_bytes for c in chunks)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/missing.csv: no such file"):
        b"".join(storage.read_bytes(str(tmp_path / "missing.csv"), s3=LOCAL))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{tmp_path}/latin1.txt: not UTF-8 text \(invalid byte at offset 3\)"):
        storage.read_text(str(tmp_path / "latin1.txt"), s3=LOCAL)


def test_write_text_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "batch" / "_manifest.json"
    storage.write_text(str(target), "first\n", s3=LOCAL)
    storage.write_text(str(target), "second ✓\n", s3=LOCAL)
    assert target.read_bytes() == "second ✓\n".encode()
    assert storage.read_text(str(target), s3=LOCAL) == "second ✓\n"
    assert os.listdir(target.parent) == ["_manifest.json"]
    reference = tmp_path / "reference"
    reference.write_text("x")  # a file made the ordinary way: the same permissions as the umask gives
    assert target.stat().st_mode == reference.stat().st_mode


def test_write_text_failure_keeps_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "LATEST"
    storage.write_text(str(target), "old\n", s3=LOCAL)

    def refuse(source, destination):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(storage.StorageError, match=f"{target}: cannot write"):
        storage.write_text(str(target), "new\n", s3=LOCAL)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["LATEST"]


def test_file_info_exists_and_delete(tree):
    root = str(tree)
    info = storage.file_info(f"{root}/top.csv", s3=LOCAL)
    assert info == storage.FileInfo(
        f"{root}/top.csv", "top.csv", len(TREE["top.csv"]), False, os.stat(tree / "top.csv").st_mtime_ns // 10**6
    )
    assert storage.file_info(f"{root}/load", s3=LOCAL).is_dir and storage.file_info(f"{root}/nope", s3=LOCAL) is None
    assert storage.exists(f"{root}/load/2021/jan.csv", s3=LOCAL) and not storage.exists(f"{root}/nope", s3=LOCAL)

    storage.delete(f"{root}/top.csv", s3=LOCAL)
    storage.delete(f"{root}/top.csv", s3=LOCAL)  # nothing left to delete is not an error
    assert not (tree / "top.csv").exists()
    with pytest.raises(storage.StorageError, match=f"{root}/load: cannot delete .*recursive=True"):
        storage.delete(f"{root}/load", s3=LOCAL)
    storage.delete(f"{root}/load", recursive=True, s3=LOCAL)
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
            storage.exists(uri, s3=LOCAL)


def test_readers_on_a_local_folder(tree):
    files = list_files(str(tree), "load/*/*.csv", s3=LOCAL)
    assert [f.relative_path for f in files] == ["load/2021/feb.csv", "load/2021/jan.csv", "load/2022/jan.csv"]
    for file in files:
        assert file.uri == f"{tree}/{file.relative_path}"
        assert file.size_bytes == len(TREE[file.relative_path])
        assert file.modified_ms == os.stat(tree / file.relative_path).st_mtime_ns // 10**6
        assert content_hash(file) == hashlib.sha256(TREE[file.relative_path]).hexdigest()
    assert raw_file(str(tree), "top.csv", s3=LOCAL).relative_path == "top.csv"
    assert raw_file(str(tree), str(tree / "top.csv"), s3=LOCAL).relative_path == "top.csv"
    with pytest.raises(RawFileError, match="load/2023/x.csv: missing file"):
        raw_file(str(tree), "load/2023/x.csv", s3=LOCAL)
    with pytest.raises(RawFileError, match="load: missing file"):
        raw_file(str(tree), "load", s3=LOCAL)


# --------------------------------------------------------------------------------------------------------------- S3


@pytest.fixture()
def access(s3_settings) -> S3Access:
    """How storage reaches the moto server: passed to every call, as LakeSettings.s3 is in the jobs."""
    return s3_settings.access


@pytest.fixture()
def bucket(s3_settings):
    """The landing bucket, filled through boto3 directly (not through storage) with TREE under raw/ plus a neighbour."""
    client = s3_client(s3_settings)
    for relative, data in TREE.items():
        client.put_object(Bucket=s3_settings.landing_bucket, Key=f"raw/{relative}", Body=data)
    client.put_object(Bucket=s3_settings.landing_bucket, Key="rawer/not-below-raw.csv", Body=b"x")
    return s3_settings.landing_bucket


def _head(s3_settings, bucket: str, key: str) -> dict:
    return s3_client(s3_settings).head_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize("scheme", ["s3a", "s3"])
def test_s3_list_dir_matches_boto3(access, s3_settings, bucket, scheme):
    root = f"{scheme}://{bucket}/raw"
    top = [(f.name, f.is_dir) for f in storage.list_dir(root, s3=access)]
    assert top == [("load", True), ("top.csv", False), ("weather", True)]
    listed = storage.list_dir(f"{root}/load/2021/", s3=access)
    assert [f.name for f in listed] == ["feb.csv", "jan.csv", "notes.txt"]
    for info in listed:
        head = _head(s3_settings, bucket, f"raw/load/2021/{info.name}")
        assert info.uri == f"{root}/load/2021/{info.name}"
        assert info.size_bytes == head["ContentLength"] == len(TREE[f"load/2021/{info.name}"])
        assert info.modified_ms == int(head["LastModified"].timestamp() * 1000)
    assert storage.list_dir(f"{root}/absent", s3=access) == []


def test_s3_glob_files_keeps_s3a_and_stays_below_the_root(access, s3_settings, bucket):
    root = f"s3a://{bucket}/raw"
    found = storage.glob_files(root, "**/*.csv", s3=access)
    assert [f.uri for f in found] == [f"{root}/{k}" for k in sorted(TREE) if k.endswith(".csv")]
    assert [f.size_bytes for f in found] == [len(TREE[k]) for k in sorted(TREE) if k.endswith(".csv")]
    assert [f.uri for f in storage.glob_files(root, "load/*/jan.csv", s3=access)] == [
        f"{root}/load/2021/jan.csv",
        f"{root}/load/2022/jan.csv",
    ]
    assert storage.glob_files(f"s3a://{bucket}/absent", "**", s3=access) == []


@pytest.mark.parametrize(("limit", "chunk_bytes"), [(None, 65_536), (None, 1 << 20), (1000, 64), (0, 10), (10**9, 1)])
def test_s3_read_bytes_is_byte_exact(access, s3_settings, limit, chunk_bytes):
    data = _payload(300_007) if chunk_bytes > 1 else _payload(3_001)
    s3_client(s3_settings).put_object(Bucket=s3_settings.curated_bucket, Key="blob.bin", Body=data)
    chunks = list(storage.read_bytes(f"s3a://{s3_settings.curated_bucket}/blob.bin", limit, chunk_bytes, s3=access))
    assert b"".join(chunks) == data[:limit]
    assert all(0 < len(c) <= chunk_bytes for c in chunks)


def test_s3_read_of_an_empty_object_with_a_limit(access, s3_settings, bucket):
    assert b"".join(storage.read_bytes(f"s3a://{bucket}/raw/load/2022/jan.csv", 4096, s3=access)) == b""
    assert storage.read_text(f"s3a://{bucket}/raw/load/2022/jan.csv", s3=access) == ""


def test_s3_write_text_is_one_object_read_back_by_boto3(access, s3_settings):
    uri = f"s3a://{s3_settings.curated_bucket}/curated/20261125T201500Z-3f9a1c2b/_manifest.json"
    storage.write_text(uri, '{"tables": ["ä"]}', s3=access)
    storage.write_text(uri, '{"tables": ["ö"]}', s3=access)
    client = s3_client(s3_settings)
    body = client.get_object(Bucket=s3_settings.curated_bucket, Key="curated/20261125T201500Z-3f9a1c2b/_manifest.json")
    assert body["Body"].read() == '{"tables": ["ö"]}'.encode()
    assert storage.read_text(uri, s3=access) == '{"tables": ["ö"]}'
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_settings.curated_bucket)["Contents"]]
    assert keys == ["curated/20261125T201500Z-3f9a1c2b/_manifest.json"]


def test_s3_file_info_exists_and_delete(access, s3_settings, bucket):
    root = f"s3a://{bucket}/raw"
    info = storage.file_info(f"{root}/top.csv", s3=access)
    head = _head(s3_settings, bucket, "raw/top.csv")
    expected = storage.FileInfo(f"{root}/top.csv", "top.csv", 8, False, int(head["LastModified"].timestamp() * 1000))
    assert info == expected
    assert storage.file_info(f"{root}/load", s3=access) == storage.FileInfo(f"{root}/load", "load", 0, True, None)
    assert storage.file_info(f"{root}/lo", s3=access) is None and not storage.exists(f"{root}/nope.csv", s3=access)
    assert storage.exists(f"s3a://{bucket}", s3=access)

    storage.delete(f"{root}/top.csv", s3=access)
    storage.delete(f"{root}/top.csv", s3=access)
    with pytest.raises(storage.StorageError, match=f"{root}/load: cannot delete: a folder"):
        storage.delete(f"{root}/load", s3=access)
    storage.delete(f"{root}/load", recursive=True, s3=access)
    left = [o["Key"] for o in s3_client(s3_settings).list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(left) == ["raw/weather/station_hourly.csv", "rawer/not-below-raw.csv"]


def test_s3_errors_name_uri_bucket_and_endpoint(access, s3_settings, bucket, monkeypatch):
    missing = f"s3a://{bucket}/raw/missing.csv"
    with pytest.raises(FileNotFoundError) as error:
        b"".join(storage.read_bytes(missing, s3=access))
    assert missing in str(error.value) and bucket in str(error.value) and s3_settings.endpoint_url in str(error.value)

    with pytest.raises(storage.StorageError) as error:
        storage.list_dir("s3a://no-such-bucket-here/raw", s3=access)
    assert "no-such-bucket-here" in str(error.value) and "bucket missing" in str(error.value)
    assert s3_settings.endpoint_url in str(error.value)

    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(storage.StorageError) as error:
        storage.exists(f"s3a://{bucket}/raw/top.csv", s3=replace(access, endpoint_url=dead))
    assert dead in str(error.value) and bucket in str(error.value) and "unreachable" in str(error.value)


def test_two_s3_configurations_in_one_process_do_not_interfere(access, s3_settings, monkeypatch):
    """Two S3 API servers hold the same bucket and key with different bytes: each call reaches the server its access
    names, in any order, and a stray ENERGY_S3_ENDPOINT (a port nobody listens on) is not used by any of them."""
    monkeypatch.setenv("ENERGY_S3_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    bucket = s3_settings.landing_bucket
    uri, only_first = f"s3a://{bucket}/raw/load/jan.csv", f"s3a://{bucket}/raw/load/only-on-the-first.csv"
    with MotoS3Server() as second_server:
        second_settings = second_server.settings(S3Settings(landing_bucket=bucket))
        ensure_bucket(s3_client(second_settings), second_settings, bucket, create=True)
        second = second_settings.access
        assert second.endpoint_url != access.endpoint_url

        storage.write_text(uri, "from the first\n", s3=access)
        storage.write_text(uri, "from the second\n", s3=second)
        storage.write_text(only_first, "x", s3=access)
        assert storage.read_text(uri, s3=access) == "from the first\n"
        assert storage.read_text(uri, s3=second) == "from the second\n"
        # Each server holds what was written to it, as boto3 on its own sees it (not through storage).
        for settings, text in ((s3_settings, b"from the first\n"), (second_settings, b"from the second\n")):
            body = s3_client(settings).get_object(Bucket=bucket, Key="raw/load/jan.csv")["Body"].read()
            assert body == text
        assert storage.exists(only_first, s3=access) and not storage.exists(only_first, s3=second)

        # A raw file keeps the access it was listed with: its bytes come from that server.
        (on_second,) = list_files(f"s3a://{bucket}/raw", "load/*.csv", s3=second)
        on_first = list_files(f"s3a://{bucket}/raw", "load/*.csv", s3=access)
        assert [f.relative_path for f in on_first] == ["load/jan.csv", "load/only-on-the-first.csv"]
        assert content_hash(on_second) == hashlib.sha256(b"from the second\n").hexdigest()
        assert content_hash(on_first[0]) == hashlib.sha256(b"from the first\n").hexdigest()


def test_lake_settings_read_the_s3_environment_once(s3_settings, bucket, monkeypatch):
    """The entry point reads ENERGY_S3_ENDPOINT and AWS_REGION into the settings; changing the environment afterwards
    changes neither the settings nor where storage goes with them."""
    monkeypatch.setenv("ENERGY_S3_ENDPOINT", s3_settings.endpoint_url)
    monkeypatch.setenv("AWS_REGION", s3_settings.region)
    # No keys in the settings: the SDK's default chain finds the stand-in's placeholder keys in the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_settings.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_settings.secret_access_key)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    settings = LakeSettings.from_env(raw_root=f"s3a://{bucket}/raw")
    expected = S3Access(endpoint_url=s3_settings.endpoint_url, region=s3_settings.region)
    assert settings.s3 == expected

    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ENERGY_S3_ENDPOINT", dead)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert settings.s3 == expected
    files = list_files(settings.raw_root, "load/2021/*.csv", s3=settings.s3)
    assert [f.relative_path for f in files] == ["load/2021/feb.csv", "load/2021/jan.csv"]
    assert content_hash(files[1]) == hashlib.sha256(TREE["load/2021/jan.csv"]).hexdigest()
    # A new entry point reads the environment as it is then.
    assert LakeSettings.from_env().s3 == S3Access(endpoint_url=dead, region="eu-west-3")


def test_s3_access_from_env_and_its_defaults():
    assert S3Access.from_env({}) == S3Access() == LakeSettings().s3
    assert S3Access.from_env({"ENERGY_S3_ENDPOINT": "", "AWS_DEFAULT_REGION": "eu-west-2"}) == S3Access(
        None, "eu-west-2"
    )
    both = {"ENERGY_S3_ENDPOINT": "http://10.0.0.5:9000", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "x"}
    assert S3Access.from_env(both) == S3Access("http://10.0.0.5:9000", "eu-west-1")
    # Keys never come from the environment here (the SDK's chain reads them), and a repr never shows a secret.
    assert S3Access.from_env({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}).access_key_id is None
    assert "placeholder-secret" not in repr(S3Access("http://127.0.0.1:9", None, "key", "placeholder-secret"))
    assert S3Access().endpoint_label == "AWS S3 (default region)"


def test_readers_on_s3a(access, s3_settings, bucket):
    root = f"s3a://{bucket}/raw"
    files = list_files(root, "load/2021/*.csv", s3=access)
    assert [(f.uri, f.relative_path) for f in files] == [
        (f"{root}/load/2021/feb.csv", "load/2021/feb.csv"),
        (f"{root}/load/2021/jan.csv", "load/2021/jan.csv"),
    ]
    for file in files:
        assert file.size_bytes == len(TREE[file.relative_path]) and file.modified_ms is not None
        assert content_hash(file) == hashlib.sha256(TREE[file.relative_path]).hexdigest()
    assert raw_file(root, "weather/station_hourly.csv", s3=access).uri == f"{root}/weather/station_hourly.csv"
    with pytest.raises(RawFileError, match="weather/none.csv: missing file"):
        raw_file(root, "weather/none.csv", s3=access)
