"""Silver's value checks without a declared valid_range: demand gets a default range, and no number that is not
finite passes as a reading (issue 24: a demand definition without valid_range kept -500 MW and 1.8e308 MW)."""

from __future__ import annotations

import math

from pyspark.sql import functions as F

from databricks_jobs.silver.transforms import DEFAULT_DEMAND_RANGE_MW, _range_checks
from databricks_jobs.sources.model import FieldSpec

# 1.8e308 is beyond the largest double: parsed, it is +infinity (as "1.8e308" in a raw file becomes); 1e300 is finite.
VALUES = [-500.0, 1.8e308, math.inf, -math.inf, math.nan, 999_999.0, 0.0, None, 1e300]


def _first_reason(spark, spec: FieldSpec, is_demand: bool) -> list[str | None]:
    frame = spark.createDataFrame([(i, v) for i, v in enumerate(VALUES)], "i int, v double")
    reason = F.lit(None).cast("string")
    for condition, name, _detail in reversed(_range_checks(F.col("v"), spec, F.lit("v"), is_demand)):
        reason = F.when(condition, F.lit(name)).otherwise(reason)  # the first check that holds, in order
    return [row["r"] for row in frame.select("i", reason.alias("r")).orderBy("i").collect()]


def test_demand_without_a_valid_range_gets_the_default_and_only_finite_values(spark):
    assert DEFAULT_DEMAND_RANGE_MW == (None, 1_000_000.0)
    demand = FieldSpec(name="demand_mw", columns=("load",), unit="MW")
    assert _first_reason(spark, demand, is_demand=True) == [
        "negative_demand", "absurd_value", "absurd_value", "absurd_value", "absurd_value", None, None, None,
        "absurd_value",
    ]  # fmt: skip
    temperature = FieldSpec(name="temperature_c", columns=("t",), unit="C")
    assert _first_reason(spark, temperature, is_demand=False) == [
        None, "absurd_value", "absurd_value", "absurd_value", "absurd_value", None, None, None, None,
    ]  # fmt: skip
