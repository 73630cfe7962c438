"""The local stand-ins are no looser than they need to be: S3 only, refusing browser requests, and a warehouse that
checks the password, answers only local host names, signs its uploads and keeps DuckDB to its folders."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import snowflake.connector
import snowflake.connector.errors

from local_platform.s3.server import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY, MotoS3Server
from local_platform.warehouse import control

pytestmark = pytest.mark.server


def _client(service: str, server: MotoS3Server):
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=LOCAL_ACCESS_KEY_ID,
        aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY,
        region_name="us-east-1",
    )


def test_s3_stand_in_serves_s3_and_nothing_else():
    with MotoS3Server() as server:
        s3 = _client("s3", server)
        s3.create_bucket(Bucket="landing")
        s3.put_object(Bucket="landing", Key="raw/a.csv", Body=b"x,1\n")
        assert s3.get_object(Bucket="landing", Key="raw/a.csv")["Body"].read() == b"x,1\n"
        # moto's all-services server would create the queue and return its URL; the S3-only server has no SQS
        sqs_answer = _client("sqs", server).create_queue(QueueName="q")
        assert "QueueUrl" not in sqs_answer
        # ... and would tell STS callers who they are; here STS's form-encoded POST is refused (a form POST)
        with pytest.raises(botocore.exceptions.ClientError, match="GetCallerIdentity"):
            _client("sts", server).get_caller_identity()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["landing"]


def _connect(settings: control.WarehouseSettings, password: str):
    parameters = {**control.connection_parameters(settings), "password": password, "login_timeout": 10}
    return snowflake.connector.connect(**parameters)


def test_local_warehouse_refuses_a_wrong_password(warehouse):
    with pytest.raises(snowflake.connector.errors.DatabaseError, match="Incorrect username or password"):
        _connect(warehouse, "not-the-local-password")
    user, password = control.local_credentials()
    with _connect(warehouse, password) as connection:
        assert connection.cursor().execute("select 41 + 1").fetchone()[0] == 42
    with pytest.raises(snowflake.connector.errors.DatabaseError, match="Incorrect username or password"):
        snowflake.connector.connect(
            **{**control.connection_parameters(warehouse), "user": user + "x", "login_timeout": 10}
        )


# --- the local warehouse is no door into the machine (docs/security.md) -------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_blob('/etc/shadow')",
        "select content from READ_TEXT('/etc/passwd')",
        "select * from read_csv('/etc/passwd')",
        "select * from read_parquet('/etc/passwd')",
        "select * from glob('/etc/*')",
        "select * from '/etc/passwd'",
        "select * from energy.curated.load_history join '/etc/passwd' on true",
        "copy (select 1) to '/tmp/written-by-the-warehouse.csv'",
        "install httpfs",
        "load httpfs",
        "pragma version",
    ],
)
def test_local_warehouse_refuses_duckdb_file_access_in_sql(warehouse, statement):
    user, password = control.local_credentials()
    with _connect(warehouse, password) as connection:
        with pytest.raises(snowflake.connector.errors.ProgrammingError) as refused:
            connection.cursor().execute(statement)
    # refused by the server's check, or already by the SQL parser (fakesnow cannot translate it): nothing ran
    assert "refuses DuckDB's file access" in str(refused.value) or refused.value.errno == 1003, refused.value


def test_local_warehouse_duckdb_is_limited_to_its_folders_and_locked(warehouse):
    _, password = control.local_credentials()
    with _connect(warehouse, password) as connection:
        cursor = connection.cursor()
        external, locked = cursor.execute(
            "select current_setting('enable_external_access'), current_setting('lock_configuration')"
        ).fetchone()
        allowed = cursor.execute("select array_to_string(current_setting('allowed_directories'), '|')").fetchone()[0]
    assert (external, locked) == (False, True)
    folders = allowed.split("|")
    assert folders and all(f.startswith(("/tmp", str(control.PROJECT_ROOT))) for f in folders), folders
    assert any(f.startswith(str(warehouse.db_path)) for f in folders)


def test_duckdb_lock_down_refuses_files_outside_and_settings_changes(tmp_path):
    """The lock the server applies, on a DuckDB connection of its own: what a SQL filter might miss still fails."""
    import duckdb

    from local_platform.warehouse.server import lock_down

    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "ok.txt").write_text("readable")
    connection = duckdb.connect()
    lock_down(connection, [inside], tmp_path / "tmp")
    assert connection.execute(f"select content from read_text('{inside}/ok.txt')").fetchone() == ("readable",)
    for statement in (
        "select * from read_blob('/etc/passwd')",
        f"copy (select 1) to '{tmp_path}/outside.csv'",
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
    ):
        with pytest.raises((duckdb.PermissionException, duckdb.InvalidInputException)):
            connection.execute(statement)
    assert not (tmp_path / "outside.csv").exists()


def _post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _login_body(password: str, **session_parameters: str) -> bytes:
    user = control.local_credentials()[0]
    data = {"LOGIN_NAME": user, "PASSWORD": password, "SESSION_PARAMETERS": session_parameters}
    return json.dumps({"data": data}).encode()


def test_local_warehouse_answers_only_local_host_names(warehouse):
    _, password = control.local_credentials()
    url = f"http://127.0.0.1:{warehouse.resolved_port}/session/v1/login-request"
    for host in ("attacker.example", "attacker.example:8765", "127.0.0.1.nip.io"):
        status, body = _post(url, _login_body(password), {"Host": host, "Content-Type": "application/json"})
        assert (status, body) == (400, b"Invalid host header"), host
    for host in ("127.0.0.1", f"localhost:{warehouse.resolved_port}"):
        status, body = _post(url, _login_body(password), {"Host": host, "Content-Type": "application/json"})
        assert status == 200 and json.loads(body)["success"] is True, host


def test_local_warehouse_refuses_a_login_that_picks_its_database_file(warehouse, tmp_path):
    _, password = control.local_credentials()
    url = f"http://127.0.0.1:{warehouse.resolved_port}/session/v1/login-request"
    body = _login_body(password, FAKESNOW_DB_PATH=str(tmp_path / "elsewhere"))
    status, answer = _post(url, body, {"Content-Type": "application/json"})
    assert status == 200 and json.loads(answer)["success"] is False
    assert "own database files only" in json.loads(answer)["message"]
    assert not (tmp_path / "elsewhere").exists()


def test_local_warehouse_uploads_need_a_url_a_session_was_given(warehouse, tmp_path):
    from fakesnow.transforms import stage

    _, password = control.local_credentials()
    base = f"http://127.0.0.1:{warehouse.resolved_port}/fs_bucket"
    for suffix in ("ENERGY/CURATED/EXPORT_STAGE/LATEST", "ENERGY/CURATED/EXPORT_STAGE/LATEST?signature=00ff"):
        status, body = _post(f"{base}/{suffix}", b"20991231T000000Z-deadbeef", {}, method="PUT")
        assert status == 403 and b"upload refused" in body
    assert not list(Path(stage.LOCAL_BUCKET_PATH).rglob("LATEST"))  # this test process's bucket path: unused
    # A logged-in session's PUT goes through the connector's presigned URL, signed by the server.
    sample = tmp_path / "sample.csv"
    sample.write_text("a,b\n1,2\n")
    with _connect(warehouse, password) as connection:
        cursor = connection.cursor()
        cursor.execute("create or replace stage ENERGY.CURATED.UPLOAD_PROBE")
        assert cursor.execute(f"put file://{sample} @ENERGY.CURATED.UPLOAD_PROBE").fetchone()[6] == "UPLOADED"
        assert [r[0] for r in cursor.execute("list @ENERGY.CURATED.UPLOAD_PROBE").fetchall()] == [
            "upload_probe/sample.csv.gz"
        ]


# --- the S3 stand-in refuses what only a browser page sends -----------------------------------------------------


def _form_post(server: MotoS3Server, bucket: str, key: str, body: bytes, origin: str | None) -> tuple[int, bytes]:
    """S3's browser upload: an unsigned multipart form POST to the bucket, as a web page's <form> sends it."""
    boundary = "----probe"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n{key}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"} | ({"Origin": origin} if origin else {})
    return _post(f"{server.endpoint_url}/{bucket}", form, headers)


def test_s3_stand_in_refuses_cross_origin_and_form_posts():
    with MotoS3Server() as server:
        s3 = _client("s3", server)
        s3.create_bucket(Bucket="curated")
        s3.put_object(Bucket="curated", Key="curated/LATEST", Body=b"20261125T201500Z-3f9a1c2b")
        forged = b"20991231T000000Z-deadbeef"
        for origin in ("http://attacker.example", None):
            status, body = _form_post(server, "curated", "curated/LATEST", forged, origin)
            assert status == 403 and b"AccessDenied" in body, origin
        status, body = _post(
            f"{server.endpoint_url}/curated?delete", b"x", {"Content-Type": "text/plain", "Origin": "null"}
        )
        assert status == 403
        latest = f"{server.endpoint_url}/curated/curated/LATEST"
        assert _post(latest, b"", {"Host": "attacker.example"}, "GET")[0] == 403
        assert _post(latest, forged, {"Origin": "http://x.example"}, "PUT")[0] == 403
        # what the platform's clients send still works, and LATEST is what it was
        assert s3.get_object(Bucket="curated", Key="curated/LATEST")["Body"].read() == b"20261125T201500Z-3f9a1c2b"
        s3.delete_objects(Bucket="curated", Delete={"Objects": [{"Key": "curated/none"}]})
