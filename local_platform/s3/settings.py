"""Where S3 is: endpoint, region, buckets and credentials, from the environment (read once, by the command) —
nothing in the repository."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from databricks_jobs.storage import S3Access

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
        """ENERGY_S3_ENDPOINT and AWS_REGION / AWS_DEFAULT_REGION (read as the lake reads them: S3Access.from_env),
        ENERGY_S3_LANDING_BUCKET, ENERGY_S3_CURATED_BUCKET. Called once, by the command that starts the flow."""
        env = os.environ
        access = S3Access.from_env(env)
        return cls(
            endpoint_url=access.endpoint_url,
            region=access.region or DEFAULT_REGION,
            landing_bucket=env.get("ENERGY_S3_LANDING_BUCKET", DEFAULT_LANDING_BUCKET),
            curated_bucket=env.get("ENERGY_S3_CURATED_BUCKET", DEFAULT_CURATED_BUCKET),
        )

    def with_endpoint(self, endpoint_url: str, access_key_id: str, secret_access_key: str) -> S3Settings:
        return replace(
            self, endpoint_url=endpoint_url, access_key_id=access_key_id, secret_access_key=secret_access_key
        )

    @property
    def access(self) -> S3Access:
        """How the lake's own file access (databricks_jobs.storage) and Spark's s3a reach this endpoint: endpoint,
        region and, for the local stand-in server only, its placeholder keys. Passed in LakeSettings, never through
        the process environment."""
        return S3Access(self.endpoint_url, self.region, self.access_key_id, self.secret_access_key)

    @property
    def endpoint_label(self) -> str:
        """For error messages: the endpoint as the user configured it (as the lake's file access names it)."""
        return self.access.endpoint_label

    @property
    def raw_root_uri(self) -> str:
        """Raw landing as Spark reads it."""
        return f"s3a://{self.landing_bucket}/{self.landing_prefix}"

    @property
    def export_root_uri(self) -> str:
        """Curated export as Spark writes it."""
        return f"s3a://{self.curated_bucket}/{self.curated_prefix}"
