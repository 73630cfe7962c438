"""lake.of_file_versions selects exactly the given (file, content hash) versions, for a few and for thousands."""

from __future__ import annotations

import pytest

from databricks_jobs import lake

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("wanted", [3, 2000])
def test_of_file_versions_selects_exactly_these_versions(spark, wanted):
    # Every file in two versions; a row of file i with the hash of file j must not match either.
    rows = [(f"f{i}.csv", f"h{i}{v}") for i in range(2500) for v in "ab"] + [("f1.csv", "h2a"), ("f0.csv", "h1a")]
    versions = [(f"f{i}.csv", f"h{i}a") for i in range(wanted)]
    frame = spark.createDataFrame(rows, "source_file string, content_hash string")
    got = {(r.source_file, r.content_hash) for r in frame.where(lake.of_file_versions(versions)).collect()}
    assert got == set(versions)
