"""Where the lake reads and writes: configuration, not code. Defaults are the embedded local stand-ins.

Tables live in a catalog by name, files in folders:
- on Databricks, `catalog.schema.table` Unity Catalog managed tables (storage chosen by Unity Catalog), raw files and
  the export in Volumes (`/Volumes/<catalog>/<schema>/<volume>`) or an external location;
- locally, Spark's session catalog (`spark_catalog.schema.table`), the schema's tables stored under `lake_root`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from databricks_jobs.reference.config_root import CONFIG_ROOT_ENV
from databricks_jobs.storage import S3Access

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_CATALOG = "spark_catalog"
DEFAULT_SCHEMA = "energy_lakehouse"
# Unquoted identifiers only: names are spliced into SQL (CREATE TABLE, OPTIMIZE), so they must not need quoting.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LakeSettings:
    """Locations of one lake: raw files, tables (catalog + schema), export.

    `catalog` None = the local session catalog, whose schema is stored in the folder `lake_root`; with a catalog
    (Unity Catalog) `lake_root` is unused, since Unity Catalog manages table storage.
    """

    raw_root: str = str(PROJECT_ROOT / "sample_data")
    lake_root: str = str(PROJECT_ROOT / ".local" / "lake")
    export_root: str = str(PROJECT_ROOT / ".local" / "export")
    catalog: str | None = None
    schema: str = DEFAULT_SCHEMA
    # User source definitions and reference data; every loader takes it from here (ENERGY_CONFIG_ROOT is read by
    # from_env only).
    config_root: str | None = None
    # How raw files and the export on s3:// / s3a:// are reached; every file access and the Spark session take it from
    # here (ENERGY_S3_ENDPOINT and AWS_REGION are read by from_env only). Default: AWS with the SDK's default chain.
    s3: S3Access = field(default_factory=S3Access)

    def __post_init__(self) -> None:
        for what, name in (("catalog", self.catalog), ("schema", self.schema)):
            if name is not None and not IDENTIFIER.match(name):
                raise ValueError(f"{what} {name!r} is not a plain identifier (letters, digits, _)")

    @classmethod
    def from_env(cls, **overrides: str | None) -> LakeSettings:
        """ENERGY_RAW_ROOT, ENERGY_LAKE_ROOT, ENERGY_EXPORT_ROOT, ENERGY_CATALOG, ENERGY_SCHEMA, ENERGY_CONFIG_ROOT
        override the defaults, ENERGY_S3_ENDPOINT and AWS_REGION / AWS_DEFAULT_REGION say how S3 is reached (see
        S3Access.from_env); explicit overrides win. The environment is read here, once: the settings carry it on."""
        values = {
            "raw_root": os.environ.get("ENERGY_RAW_ROOT", cls.raw_root),
            "lake_root": os.environ.get("ENERGY_LAKE_ROOT", cls.lake_root),
            "export_root": os.environ.get("ENERGY_EXPORT_ROOT", cls.export_root),
            "catalog": os.environ.get("ENERGY_CATALOG") or None,
            "schema": os.environ.get("ENERGY_SCHEMA", DEFAULT_SCHEMA),
            "config_root": os.environ.get(CONFIG_ROOT_ENV) or None,
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values, s3=S3Access.from_env())

    @property
    def is_local_catalog(self) -> bool:
        return self.catalog in (None, LOCAL_CATALOG)

    @property
    def namespace(self) -> str:
        """`catalog.schema` as SQL names it."""
        return f"{self.catalog or LOCAL_CATALOG}.{self.schema}"

    def table_name(self, table: str) -> str:
        """The fully qualified name of one of the lake's tables."""
        if not IDENTIFIER.match(table):
            raise ValueError(f"table name {table!r} is not a plain identifier")
        return f"{self.namespace}.{table}"
