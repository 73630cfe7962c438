"""Major Event Days: the IEEE Std 1366 "2.5 beta" threshold, fitted on history and applied to the following year.

For a region and year Y: take the daily SAIDI of years Y-5 .. Y-1 (what exists), drop zero days, take natural logs;
alpha = their mean, beta = their SAMPLE standard deviation (n - 1; IEEE 1366 says only "standard deviation" and its
worked examples use a spreadsheet STDEV, which is the sample one); T_MED = exp(alpha + 2.5 beta). A day of Y whose
SAIDI exceeds T_MED is a Major Event Day. The threshold is provisional when fewer than five years of history exist,
and absent (no MED) when fewer than two non-zero days exist (beta is undefined) or customers served is unknown.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

MED_BETA_MULTIPLIER = 2.5
MED_HISTORY_YEARS = 5
MIN_NONZERO_DAYS = 2


# Spark sums avg and stddev in partition order, which differs between runs in the last bits (seen: 389.80803535496347
# against 389.8080353549638 minutes from the same history): rounded, a rebuild from the same history gives the same
# threshold, so an unchanged Gold table is not rewritten and exported as changed.
THRESHOLD_DECIMALS = 9


def med_thresholds(
    daily: DataFrame, beta_multiplier: float = MED_BETA_MULTIPLIER, history_years: int = MED_HISTORY_YEARS
) -> DataFrame:
    """Daily SAIDI (region_code, date_local, saidi_minutes; every calendar day of each year present) ->
    one row per region and year: med_threshold_saidi_minutes, med_history_days, med_history_years,
    is_med_threshold_provisional, med_alpha, med_beta."""
    days = daily.select("region_code", F.year("date_local").alias("year"), "saidi_minutes")
    targets = days.select("region_code", "year").distinct()
    history = days.select(
        "region_code", F.col("year").alias("history_year"), F.col("saidi_minutes").alias("history_saidi")
    )
    positive = F.col("history_saidi") > 0
    log_saidi = F.when(positive, F.log(F.col("history_saidi")))
    fitted = (
        targets.join(history, "region_code")
        .where(F.col("history_year").between(F.col("year") - history_years, F.col("year") - 1))
        .groupBy("region_code", "year")
        .agg(
            F.countDistinct("history_year").alias("med_history_years"),
            F.count(log_saidi).cast("int").alias("med_history_days"),
            F.avg(log_saidi).alias("med_alpha"),
            F.stddev_samp(log_saidi).alias("med_beta"),
        )
    )
    enough = F.col("med_history_days") >= MIN_NONZERO_DAYS
    return (
        targets.join(fitted, ["region_code", "year"], "left")
        .withColumn("med_history_years", F.coalesce("med_history_years", F.lit(0)))
        .withColumn("med_history_days", F.coalesce("med_history_days", F.lit(0)))
        .withColumn(
            "med_threshold_saidi_minutes",
            F.when(
                enough,
                F.round(F.exp(F.col("med_alpha") + F.lit(beta_multiplier) * F.col("med_beta")), THRESHOLD_DECIMALS),
            ),
        )
        .withColumn("is_med_threshold_provisional", F.col("med_history_years") < history_years)
    )


def flag_major_event_days(daily: DataFrame, thresholds: DataFrame) -> DataFrame:
    """Adds the threshold in force for the day's year and is_major_event_day (SAIDI strictly above it)."""
    columns = ["med_threshold_saidi_minutes", "is_med_threshold_provisional", "med_history_days"]
    flagged = daily.withColumn("year", F.year("date_local")).join(
        thresholds.select("region_code", "year", *columns), ["region_code", "year"], "left"
    )
    return flagged.withColumn(
        "is_major_event_day",
        F.coalesce(F.col("saidi_minutes") > F.col("med_threshold_saidi_minutes"), F.lit(False)),
    ).drop("year")
