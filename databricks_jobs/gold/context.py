"""What a Gold builder sees: the Spark session, the lake, the batch, and which Silver rows are new to Gold."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.reference.regions import Region, load_regions
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import (
    GOLD_PROCESSED_SILVER_BATCHES,
    GOLD_SHARED_RESULTS,
    TableContract,
    gold_shared_staging,
)

T = TypeVar("T")
_PROCESSED = "processed_batches"


@dataclass
class GoldContext:
    spark: SparkSession
    settings: LakeSettings
    batch_id: str
    full_refresh: bool = False
    # What the builders share, one value per key for the run: plans, results computed once, flags. Builders run in
    # threads (gold/runner.py): one computes a key's value, the others needing the same key wait for it; a lock per
    # key, so a value computed with Spark jobs holds up only the builders that need it.
    _values: dict[object, object] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _key_locks: dict[object, threading.RLock] = field(default_factory=dict, repr=False)

    @property
    def regions(self) -> tuple[Region, ...]:
        """The reference regions in force: the packaged ones with the settings' config root's over them."""
        return load_regions(self.settings.config_root)

    @property
    def customers_served(self) -> dict[tuple[str, int], int]:
        """(region_code, year) -> customers served, packaged with the settings' config root's over them."""
        return load_customers_served(self.settings.config_root)

    def cached(self, key: object, factory: Callable[[], DataFrame | None]) -> DataFrame | None:
        """One DataFrame (plan) per key for the whole Gold run: builders share their Silver inputs' plans. Not
        persisted: serverless refuses DataFrame.persist/cache ([NOT_SUPPORTED_WITH_SERVERLESS]) unless the workspace
        has its DataFrame-caching preview on; each builder's read of Silver is a Delta scan with file skipping, and
        its result is written once by write_gold. A small result several builders derive from: computed_once."""
        return self._once(key, factory)

    def _once(self, key: object, factory: Callable[[], T]) -> T:
        with self._lock_of(key):
            if key not in self._values:
                self._values[key] = factory()
            return self._values[key]

    def _lock_of(self, key: object) -> threading.RLock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.RLock())

    def computed_once(self, name: str, factory: Callable[[], DataFrame | None]) -> DataFrame | None:
        """Like cached, for a result several builders derive from (`name`: one of tables.GOLD_SHARED_RESULTS): its
        rows are computed once onto the driver and shared as a local frame when there are at most lake.DRIVER_ROWS
        of them (the limit keeps the driver's memory bounded); more are computed once again into a staging table
        that every builder reads. Its plan runs at most twice per run, not once per builder that derives from it."""
        if name not in GOLD_SHARED_RESULTS:
            raise ValueError(f"{name!r} is not a shared Gold result (tables.GOLD_SHARED_RESULTS)")

        def load() -> DataFrame | None:
            plan = factory()
            if plan is None:
                return None
            collected = lake.collect_small(plan)
            if collected is not None:
                return lake.local_frame(self.spark, collected)
            # One staging table per name, though a run has two contexts (incremental and whole): the reliability
            # results are built from the whole Silver table in either, and changed_days is asked of the incremental
            # one only, so both would stage the same rows.
            return lake.stage(self.spark, self.settings, gold_shared_staging(name), plan)

        return self.cached(name, load)

    def release(self) -> None:
        self._values.clear()

    def read(self, table_name: str) -> DataFrame | None:
        """The lake's table, or None when it has not been written yet."""
        return lake.read(self.spark, self.settings, table_name)

    def read_or_empty(self, contract: TableContract) -> DataFrame:
        """The lake's table, or an empty frame of its contract's schema."""
        return lake.read_or_empty(self.spark, self.settings, contract)

    def processed_batches(self) -> DataFrame:
        return self._once(
            _PROCESSED, lambda: lake.read_or_empty(self.spark, self.settings, GOLD_PROCESSED_SILVER_BATCHES)
        )

    def changed(self, table_name: str) -> DataFrame | None:
        """Rows of a Silver table from batches Gold has not processed yet (all rows on a full refresh): a filter on
        their batch ids, which Delta's file statistics answer by skipping the files of earlier batches, or, when the
        batches are too many to list, an anti join with those processed."""
        silver = self.read(table_name)
        if silver is None or self.full_refresh:
            return silver
        new = self.new_batch_ids(table_name)
        if new is not None:
            return silver.where(F.col("batch_id").isin(list(new))) if new else silver.limit(0)
        done = self.processed_batches().where(F.col("table_name") == table_name).select("batch_id")
        return silver.join(F.broadcast(done), "batch_id", "left_anti")

    def new_batch_ids(self, table_name: str) -> tuple[str, ...] | None:
        """The batches of a Silver table Gold has not processed (one job per table and run, onto the driver); None
        when they are more than lake.DRIVER_ROWS (Silver runs without Gold, many times over) or the table is not
        there."""

        def ids() -> tuple[str, ...] | None:
            silver = self.read(table_name)
            if silver is None:
                return None
            done = self.processed_batches().where(F.col("table_name") == table_name).select("batch_id")
            new = silver.select("batch_id").distinct().join(F.broadcast(done), "batch_id", "left_anti")
            collected = lake.collect_small(new)
            return None if collected is None else tuple(sorted(row[0] for row in collected.rows))

        return self._once(("new_batch_ids", table_name), ids)

    def has_new_batches(self, table_name: str) -> bool:
        """Whether a Silver table holds rows of a batch Gold has not processed."""
        new = self.new_batch_ids(table_name)
        if new is not None:
            return bool(new)

        def any_new() -> bool:  # too many to list: one small job, asked once per table and run like the list
            changed = self.changed(table_name)
            return changed is not None and not changed.select("batch_id").limit(1).isEmpty()

        return self._once(("has_new_batches", table_name), any_new)

    def record_processed(self, table_names: list[str]) -> None:
        """After every builder succeeded: remember the Silver batches now reflected in Gold, those the builders were
        given (Gold writes no Silver table, so they are all the Silver tables hold)."""
        if not any(self.has_new_batches(name) for name in table_names):
            return  # nothing to add, no commit
        listed = [(name, self.new_batch_ids(name)) for name in table_names]
        rows = [(name, batch_id) for name, new in listed if new for batch_id in new]
        frames = [lake.rows_frame(self.spark, rows, GOLD_PROCESSED_SILVER_BATCHES.spark_schema())] if rows else []
        for name in (name for name, new in listed if new is None):
            silver = self.read(name)  # read only where the batches were too many to list
            if silver is not None:
                # The pairs not recorded yet, found by Spark (what an insert-only MERGE would add).
                pairs = silver.select(F.lit(name).alias("table_name"), "batch_id").distinct()
                known = self.processed_batches().select("table_name", "batch_id")
                frames.append(pairs.join(known, ["table_name", "batch_id"], "left_anti"))
        current = frames[0]
        for frame in frames[1:]:
            current = current.unionByName(frame)
        lake.append(self.spark, self.settings, GOLD_PROCESSED_SILVER_BATCHES, current)
        self._values.pop(_PROCESSED, None)
