"""Skip a Gold builder whose inputs are as they were when it last built its table.

A builder's inputs are the lake tables it reads (their id and last commit, from DESCRIBE DETAIL), the reference data
every builder may use (regions and time zones, customers served) and the code's version. Their fingerprint is kept
per Gold table in gold__build_inputs once the table is written; a run that finds the same fingerprint skips the
builder without reading anything else. This is what makes a run with nothing new cheap: sync builders (reliability,
quality) rebuild their whole table otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import metadata

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.clock import utc_now
from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_BUILD_INPUTS


def _code_version() -> str:
    try:
        return metadata.version("energy-reliability-platform")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "source"


def reference_data(config_root: str | None) -> dict[str, str]:
    """A digest of each reference data set as the builders load it (packaged files with `config_root`'s over them): of
    its values, so a package installed elsewhere or a regions file's rows reordered rebuilds nothing."""
    regions, served = load_regions(config_root), load_customers_served(config_root)
    region_values = [r.values() for r in sorted(regions, key=lambda r: r.region_code)]
    data = {"regions": repr(region_values), "customers_served": repr(sorted(served.items()))}
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in data.items()}


def input_states(spark: SparkSession, settings: LakeSettings, builders: Iterable[GoldBuilder]) -> dict[str, object]:
    """Each lake table any of `builders` reads -> [table id, last commit] (None before it exists): one DESCRIBE
    DETAIL per table and run, however many builders read it (Gold writes none of them)."""
    states: dict[str, object] = {}
    for name in sorted({name for builder in builders for name in (*builder.inputs, *builder.reads)}):
        state = lake.table_state(spark, settings, name)
        states[name] = None if state is None else [state.table_id, state.last_modified_utc]
    return states


def builder_inputs(builder: GoldBuilder, states: dict[str, object], reference: dict[str, str]) -> dict[str, object]:
    """What `builder` reads, as fingerprinted: its lake tables' states, the reference data, the code version."""
    tables = {name: states[name] for name in sorted({*builder.inputs, *builder.reads})}
    return {"tables": tables, "reference": reference, "code": _code_version()}


def fingerprint(inputs: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def stored_fingerprints(spark: SparkSession, settings: LakeSettings) -> dict[str, str]:
    """Gold table -> the fingerprint of the inputs it was last built from."""
    frame = lake.read(spark, settings, GOLD_BUILD_INPUTS.name)
    if frame is None:
        return {}
    return {r.table_name: r.inputs_fingerprint for r in frame.select("table_name", "inputs_fingerprint").collect()}


def record_fingerprints(
    spark: SparkSession, settings: LakeSettings, batch_id: str, built: Iterable[tuple[str, dict[str, object]]]
) -> None:
    """Replace the rows of the tables just built (table name, inputs) in one commit."""
    built = list(built)
    if not built:
        return
    now = utc_now()
    records = [
        {
            "table_name": table,
            "inputs_fingerprint": fingerprint(inputs),
            "inputs_json": json.dumps(inputs, sort_keys=True),
            "batch_id": batch_id,
            "built_at_utc": now,
        }
        for table, inputs in built
    ]
    rows = lake.records_frame(spark, GOLD_BUILD_INPUTS, records)
    lake.overwrite(spark, settings, GOLD_BUILD_INPUTS, rows, F.col("table_name").isin([t for t, _ in built]))
