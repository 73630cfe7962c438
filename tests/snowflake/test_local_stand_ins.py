"""The local stand-ins are no looser than they need to be: S3 only, and a warehouse that checks the password."""

from __future__ import annotations

import boto3
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
        # ... and would tell STS callers who they are; here the answer is S3's, which an STS client cannot parse
        with pytest.raises(KeyError, match="GetCallerIdentityResult"):
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
