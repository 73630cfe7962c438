"""GoldContext shares plans and results between the Gold builders' threads: each key computed once, and a builder
waits only for the keys it needs."""

from __future__ import annotations

import threading
import uuid

import pytest

from databricks_jobs import lake
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_PROCESSED_SILVER_BATCHES, Column, TableContract


def _context(tmp_path) -> GoldContext:
    return GoldContext(None, LakeSettings(lake_root=str(tmp_path / "lake")), "20261206T000000Z-00000001")


def test_a_key_being_computed_holds_up_only_the_builders_that_need_it(tmp_path):
    ctx = _context(tmp_path)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:  # a result computed with Spark jobs: seconds
        calls.append("a")
        started.set()
        release.wait(30)
        return "A"

    first = threading.Thread(target=lambda: ctx.cached("a", slow))
    first.start()
    try:
        assert started.wait(10)
        other: list[str] = []
        reader = threading.Thread(target=lambda: other.append(ctx.cached("b", lambda: "B")))
        reader.start()
        reader.join(5)
        assert other == ["B"], "a builder needing another key waited for the key being computed"
        waiting: list[str] = []
        same = threading.Thread(target=lambda: waiting.append(ctx.cached("a", lambda: "computed twice")))
        same.start()
        same.join(0.5)
        assert waiting == []  # the same key: waits for the first computation
    finally:
        release.set()
    first.join(10)
    same.join(10)
    assert waiting == ["A"] and calls == ["a"]


SILVER_ROWS = TableContract(
    "silver_test__rows",
    "a Silver-shaped table for the context's tests: a value per row and the Silver batch that wrote it",
    (Column("value", "double", False), Column("batch_id", "string", False)),
    ("value",),
)


@pytest.mark.spark
@pytest.mark.parametrize("listed", [True, False], ids=["batches listed", "too many batches to list"])
def test_rows_new_to_gold_are_those_of_the_batches_it_has_not_processed(spark, tmp_path, monkeypatch, listed):
    """Silver batches b1 (processed), b2 and b3 (new; another table's b2 is processed, not this one's): the new rows
    are b2's and b3's, found by their batch ids or, with more batches than the driver lists, by an anti join; after
    the run both are recorded once, and the next run finds nothing new and records nothing."""
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema=f"context_{uuid.uuid4().hex[:8]}")
    for batch_id, values in (("b1", [1.0, 2.0]), ("b2", [3.0]), ("b3", [4.0, 5.0])):
        rows = spark.createDataFrame([(v, batch_id) for v in values], SILVER_ROWS.spark_schema())
        lake.append(spark, settings, SILVER_ROWS, rows)  # a commit (and a file) per batch
    processed = [(SILVER_ROWS.name, "b1"), ("silver_test__other", "b2")]
    schema = GOLD_PROCESSED_SILVER_BATCHES.spark_schema()
    lake.append(spark, settings, GOLD_PROCESSED_SILVER_BATCHES, spark.createDataFrame(processed, schema))
    if not listed:
        monkeypatch.setattr(lake, "DRIVER_ROWS", 1)  # two new batches: more than the driver takes

    ctx = GoldContext(spark, settings, "b4")
    assert ctx.new_batch_ids(SILVER_ROWS.name) == (("b2", "b3") if listed else None)
    assert ctx.has_new_batches(SILVER_ROWS.name)
    assert sorted(r.value for r in ctx.changed(SILVER_ROWS.name).collect()) == [3.0, 4.0, 5.0]
    ctx.record_processed([SILVER_ROWS.name])

    def recorded() -> list[tuple[str, str]]:
        return sorted(map(tuple, lake.read(spark, settings, GOLD_PROCESSED_SILVER_BATCHES.name).collect()))

    assert recorded() == sorted([*processed, (SILVER_ROWS.name, "b2"), (SILVER_ROWS.name, "b3")])
    version = lake.latest_version(spark, settings, GOLD_PROCESSED_SILVER_BATCHES.name)
    after = GoldContext(spark, settings, "b5")
    assert not after.has_new_batches(SILVER_ROWS.name)
    assert after.changed(SILVER_ROWS.name).count() == 0
    after.record_processed([SILVER_ROWS.name])
    assert lake.latest_version(spark, settings, GOLD_PROCESSED_SILVER_BATCHES.name) == version
