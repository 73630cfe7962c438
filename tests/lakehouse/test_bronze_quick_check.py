"""Bronze recognises a file it holds by its listing (path, size, modification time) without reading it again, and
hashes a file whose listing changed: a touched file with the same bytes is skipped, a rewritten one is ingested."""

from __future__ import annotations

import os
import shutil

import pytest

from databricks_jobs.bronze import ingest
from databricks_jobs.bronze.ingest import INGESTED, SKIPPED, ingest_bronze
from tests.lakehouse.conftest import lake_over

pytestmark = pytest.mark.spark

SOURCE = "noaa_isd_temperature"
FILE = "noaa_isd_texas_2021_hourly_temp/houston_weather_hourly.csv"


def statuses(report) -> dict[str, str]:
    return {f.path: f.status for f in report.files}


def test_an_unchanged_listing_is_not_read_and_a_changed_one_is(spark, sample_data, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / FILE).parent.mkdir(parents=True)
    shutil.copy(sample_data / FILE, raw / FILE)
    settings = lake_over(raw, tmp_path / "lake")
    assert statuses(ingest_bronze(spark, settings, "20210101T000000Z-00000001", [SOURCE])) == {FILE: INGESTED}

    hashed: list[str] = []
    real_scan = ingest.scan_file  # the one read that hashes a file (and checks its text)
    monkeypatch.setattr(
        ingest, "scan_file", lambda file, definition: hashed.append(file.uri) or real_scan(file, definition)
    )
    assert statuses(ingest_bronze(spark, settings, "20210101T000000Z-00000002", [SOURCE])) == {FILE: SKIPPED}
    assert hashed == []  # known by its listing: not a byte read

    stat = (raw / FILE).stat()
    os.utime(raw / FILE, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched, same bytes
    assert statuses(ingest_bronze(spark, settings, "20210101T000000Z-00000003", [SOURCE])) == {FILE: SKIPPED}
    assert len(hashed) == 1  # the listing changed, so the file was hashed, and its hash is known

    lines = (raw / FILE).read_text().splitlines(keepends=True)
    (raw / FILE).write_text("".join(lines[:-1]))  # the last reading withdrawn: new bytes, new listing
    assert statuses(ingest_bronze(spark, settings, "20210101T000000Z-00000004", [SOURCE])) == {FILE: INGESTED}
    assert len(hashed) == 2
