"""Fixtures shared by the Bronze/Silver tests: a throwaway lake over a chosen raw folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from databricks_jobs.settings import LakeSettings

BAD_INPUTS = Path(__file__).with_name("bad_inputs")


def lake_over(raw_root: Path, lake_root: Path) -> LakeSettings:
    return LakeSettings(raw_root=str(raw_root), lake_root=str(lake_root), export_root=str(lake_root / "export"))


@pytest.fixture(scope="session")
def bad_inputs() -> Path:
    return BAD_INPUTS


def file_accounting_of(spark, settings: LakeSettings):
    """gold_quality__file_accounting's rows as Gold builds them, from the lake's two bookkeeping tables."""
    from databricks_jobs import lake
    from databricks_jobs.gold.quality import file_accounting
    from databricks_jobs.tables import BRONZE_INGESTED_FILES, SILVER_PROCESSED_FILES

    processed = lake.read_or_empty(spark, settings, SILVER_PROCESSED_FILES)
    return file_accounting(processed, lake.read_or_empty(spark, settings, BRONZE_INGESTED_FILES))
