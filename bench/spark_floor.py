"""A second reference for the pipeline benchmark: the same daily demand figures in one Spark job straight from the raw
CSVs, with no lake (no Bronze raw lines, no Silver validation, lineage or Delta writes). Spark pipeline / this = what
the lake layers cost; this / DuckDB = what Spark itself costs on this machine."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs.reference.regions import load_regions

CSV_SCHEMA = "interval_start_utc timestamp, region string, feeder_id string, load_kw double"


def _normalised(column: F.Column) -> F.Column:
    """Region text compared the way the DuckDB reference compares it (case, '-' and '_' as spaces)."""
    return F.lower(F.regexp_replace(column, "[-_]", " "))


def _aliases(spark: SparkSession) -> DataFrame:
    rows = [(alias, r.region_code, r.time_zone) for r in load_regions() for alias in (r.region_code, *r.aliases)]
    frame = spark.createDataFrame(rows, "alias string, region_code string, time_zone string")
    return frame.withColumn("alias", _normalised(F.col("alias"))).dropDuplicates(["alias"])


def daily_demand(spark: SparkSession, raw_glob: str) -> pd.DataFrame:
    """region_code, date_local, energy_mwh, peak_demand_mw, hours_reported: the columns compare_daily checks."""
    raw = spark.read.csv(raw_glob, header=True, schema=CSV_SCHEMA, timestampFormat="yyyy-MM-dd HH:mm:ss")
    mapped = raw.join(F.broadcast(_aliases(spark)), _normalised(F.col("region")) == F.col("alias"))
    hourly = mapped.groupBy("region_code", "time_zone", F.date_trunc("hour", "interval_start_utc").alias("hour")).agg(
        (F.sum("load_kw") / 1000.0).alias("demand_mw")
    )
    local = hourly.withColumn("date_local", F.to_date(F.from_utc_timestamp("hour", F.col("time_zone"))))
    daily = local.groupBy("region_code", "date_local").agg(
        F.sum("demand_mw").alias("energy_mwh"),
        F.max("demand_mw").alias("peak_demand_mw"),
        F.count("*").alias("hours_reported"),
    )
    return daily.toPandas()
