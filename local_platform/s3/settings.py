"""Where S3 is: endpoint, region, buckets and credentials, all from the environment — nothing in the repository."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

DEFAULT_LANDING_BUCKET = "energy-landing"
DEFAULT_CURATED_BUCKET = "energy-curated"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class S3Settings:
    """An S3 API endpoint and the two buckets the platform uses.

    endpoint_url None means AWS itself (boto3 and s3a resolve the regional endpoint). Credentials None means "let the
    SDK's default chain find them" (environment, profile, instance role); only the local stand-in server sets them.
    """

    endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    landing_bucket: str = DEFAULT_LANDING_BUCKET
    curated_bucket: str = DEFAULT_CURATED_BUCKET
    landing_prefix: str = "raw"
    curated_prefix: str = "curated"
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @classmethod
    def from_env(cls) -> S3Settings:
        """ENERGY_S3_ENDPOINT, ENERGY_S3_LANDING_BUCKET, ENERGY_S3_CURATED_BUCKET, AWS_REGION / AWS_DEFAULT_REGION."""
        env = os.environ
        return cls(
            endpoint_url=env.get("ENERGY_S3_ENDPOINT") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            landing_bucket=env.get("ENERGY_S3_LANDING_BUCKET", DEFAULT_LANDING_BUCKET),
            curated_bucket=env.get("ENERGY_S3_CURATED_BUCKET", DEFAULT_CURATED_BUCKET),
        )

    def with_endpoint(self, endpoint_url: str, access_key_id: str, secret_access_key: str) -> S3Settings:
        return replace(
            self, endpoint_url=endpoint_url, access_key_id=access_key_id, secret_access_key=secret_access_key
        )

    def storage_environment(self) -> dict[str, str]:
        """The variables boto3 in databricks_jobs.storage reads to reach this endpoint (endpoint, region and, for the
        local stand-in server only, its placeholder keys)."""
        env = {"AWS_REGION": self.region}
        if self.endpoint_url:
            env["ENERGY_S3_ENDPOINT"] = self.endpoint_url
        if self.access_key_id and self.secret_access_key:
            env["AWS_ACCESS_KEY_ID"] = self.access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        return env

    @property
    def endpoint_label(self) -> str:
        """For error messages: the endpoint as the user configured it."""
        return self.endpoint_url or f"AWS S3 ({self.region})"

    @property
    def raw_root_uri(self) -> str:
        """Raw landing as Spark reads it."""
        return f"s3a://{self.landing_bucket}/{self.landing_prefix}"

    @property
    def export_root_uri(self) -> str:
        """Curated export as Spark writes it."""
        return f"s3a://{self.curated_bucket}/{self.curated_prefix}"


@contextmanager
def process_environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for this process while the block runs, then restore them: the settings reach the
    code that reads the environment (boto3's default chain) without being written anywhere."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
