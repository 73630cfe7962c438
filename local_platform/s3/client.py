"""boto3 client factory and reachability checks: every failure names the endpoint and the bucket."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from databricks_jobs import storage
from local_platform.s3.settings import S3Settings


class S3UnavailableError(RuntimeError):
    """S3 cannot be used: endpoint unreachable, bucket missing or access denied."""


def s3_client(settings: S3Settings):
    """The boto3 S3 client the lake's own file access uses for these settings (databricks_jobs.storage.s3_client):
    path-style addressing for a custom endpoint, so a loopback server works like AWS."""
    return storage.s3_client(settings.access)


def check_bucket(client, settings: S3Settings, bucket: str) -> None:
    """Raise S3UnavailableError naming endpoint and bucket unless the bucket exists and is reachable."""
    where = f"bucket '{bucket}' at endpoint {settings.endpoint_label}"
    try:
        client.head_bucket(Bucket=bucket)
    except EndpointConnectionError as exc:
        raise S3UnavailableError(f"S3 endpoint unreachable: cannot connect to {where}: {exc}") from exc
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise S3UnavailableError(
                f"S3 bucket missing: {where} does not exist (create it or set ENERGY_S3_*_BUCKET)"
            ) from exc
        raise S3UnavailableError(f"S3 error {code} on {where}: {exc}") from exc
    except BotoCoreError as exc:
        raise S3UnavailableError(f"S3 error on {where}: {exc}") from exc


def ensure_bucket(client, settings: S3Settings, bucket: str, create: bool) -> None:
    """Check the bucket; with create=True (local stand-in only) create it first if missing."""
    if create:
        try:
            client.create_bucket(Bucket=bucket)
        except EndpointConnectionError as exc:
            raise S3UnavailableError(
                f"S3 endpoint unreachable: cannot connect to bucket '{bucket}' at endpoint {settings.endpoint_label}"
            ) from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
    check_bucket(client, settings, bucket)
