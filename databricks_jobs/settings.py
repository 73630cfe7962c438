"""Where the lake reads and writes: configuration, not code. Defaults are the embedded local stand-ins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LakeSettings:
    """Locations as URIs or paths: a local folder by default, `s3a://bucket/prefix` or a Volume on Databricks."""

    raw_root: str = str(PROJECT_ROOT / "sample_data")
    lake_root: str = str(PROJECT_ROOT / ".local" / "lake")
    export_root: str = str(PROJECT_ROOT / ".local" / "export")
    config_root: str | None = None  # user source definitions and reference data (ENERGY_CONFIG_ROOT)

    @classmethod
    def from_env(cls, **overrides: str) -> LakeSettings:
        """ENERGY_RAW_ROOT, ENERGY_LAKE_ROOT, ENERGY_EXPORT_ROOT override the defaults; explicit overrides win."""
        values = {
            "raw_root": os.environ.get("ENERGY_RAW_ROOT", cls.raw_root),
            "lake_root": os.environ.get("ENERGY_LAKE_ROOT", cls.lake_root),
            "export_root": os.environ.get("ENERGY_EXPORT_ROOT", cls.export_root),
            "config_root": os.environ.get("ENERGY_CONFIG_ROOT") or None,
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values)

    def table_path(self, table_name: str) -> str:
        return f"{self.lake_root.rstrip('/')}/{table_name}"
