"""Reliability Gold: outage events with local times, and SAIDI / SAIFI / CAIDI / MAIFI / ASAI / CEMI-n per region by
local day, month and year, with and without Major Event Days (IEEE 1366; definitions in the README).

Counting rules (one place, used by every table):
- an event counts on the local calendar day it STARTS, in its region's time zone;
- open events (no restoration yet) are in gold_outages__events but in no index until a later export restores them;
- events with unknown customers count as interruptions but add no customers: they are excluded from the
  customer-weighted indices and counted in events_excluded_unknown_customers;
- events whose restoration is unknown (silver is_restoration_unknown: OE-417 'Unknown') count as sustained
  interruptions (SAIFI, CEMI) but add no customer minutes (SAIDI, and so CAIDI = SAIDI / SAIFI and ASAI, are lower
  bounds where they occur) and are counted in events_excluded_unknown_restoration;
- customers served (N_T) is reference data per region and year (reference/customers_served.csv); a region without a
  sourced count gets event-level figures and null indices;
- CEMI-n is estimated per feeder assuming a feeder's smaller interruptions hit a subset of the customers of its larger
  ones (exact when events take out whole feeders): customers with more than n interruptions on a feeder = the
  (n+1)-th largest customers_affected among its sustained events in the period.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.exact_sums import exact_sum
from databricks_jobs.gold.local_time import hours_in_local_day, to_local, with_region_time_zone
from databricks_jobs.gold.major_event_days import flag_major_event_days, med_thresholds
from databricks_jobs.gold.writer import conform
from databricks_jobs.reference.regions import Region
from databricks_jobs.tables import (
    GOLD_OUTAGES_EVENTS,
    GOLD_RELIABILITY_DAILY,
    GOLD_RELIABILITY_MONTHLY,
    GOLD_RELIABILITY_YEARLY,
    SILVER_OUTAGE_EVENTS,
    TableContract,
)

DEFAULT_CEMI_N = 3


def customers_served_frame(spark: SparkSession, counts: dict[tuple[str, int], int]) -> DataFrame:
    """(region_code, year) -> customers served (reference.customers_served) as a small DataFrame."""
    rows = [(region, year, count) for (region, year), count in sorted(counts.items())]
    return lake.rows_frame(spark, rows, "region_code string, year int, customers_served bigint")


def check_one_source_per_region(events: DataFrame) -> None:
    """Indices add events of a region across sources: two sources for one region would count outages twice."""
    shared = (
        events.groupBy("region_code").agg(F.collect_set("source_id").alias("sources")).where(F.size("sources") > 1)
    ).collect()
    if shared:
        detail = ", ".join(f"{r.region_code}: {sorted(r.sources)}" for r in shared)
        raise ValueError(f"outage events of one region come from more than one source ({detail}); map them apart")


def events_local(silver_events: DataFrame, regions: Sequence[Region]) -> DataFrame:
    """Silver outage events + time_zone, started_at_local, restored_at_local, date_local (local start day)."""
    tz = F.col("time_zone")
    return (
        with_region_time_zone(silver_events, regions)
        .withColumn("started_at_local", to_local(F.col("started_at_utc"), tz))
        .withColumn("restored_at_local", to_local(F.col("restored_at_utc"), tz))
        .withColumn("date_local", F.to_date("started_at_local"))
    )


def _calendar(events: DataFrame) -> DataFrame:
    """Every local day of every calendar year in which a region has events (zero days matter to MED and averages)."""
    years = events.groupBy("region_code", "time_zone").agg(
        F.min(F.year("date_local")).alias("first_year"), F.max(F.year("date_local")).alias("last_year")
    )
    days = F.sequence(F.make_date("first_year", F.lit(1), F.lit(1)), F.make_date("last_year", F.lit(12), F.lit(31)))
    return years.select("region_code", "time_zone", F.explode(days).alias("date_local"))


def _counts(events: DataFrame) -> DataFrame:
    closed = ~F.col("is_open")
    known = ~F.col("is_customers_unknown")
    sustained = closed & ~F.col("is_momentary")
    momentary = closed & F.col("is_momentary")
    timed = ~F.col("is_restoration_unknown")
    customers = F.col("customers_affected")
    return events.groupBy("region_code", "date_local").agg(
        F.count(F.when(sustained, 1)).alias("sustained_interruptions"),
        F.count(F.when(momentary, 1)).alias("momentary_interruptions"),
        F.sum(F.when(sustained & known, customers)).alias("customer_interruptions"),
        exact_sum(F.when(sustained & known & timed, customers * F.col("duration_minutes"))).alias(
            "customer_minutes_interrupted"
        ),
        F.sum(F.when(momentary & known, customers)).alias("momentary_customer_interruptions"),
        F.count(F.when(closed & ~known, 1)).alias("events_excluded_unknown_customers"),
        F.count(F.when(~timed, 1)).alias("events_excluded_unknown_restoration"),
    )


def daily_reliability(events: DataFrame, customers_served: DataFrame, batch_id: str) -> DataFrame:
    """events_local(...) -> gold_reliability__daily: one row per region and local day of its event years."""
    count_columns = [
        "sustained_interruptions",
        "momentary_interruptions",
        "customer_interruptions",
        "momentary_customer_interruptions",
        "events_excluded_unknown_customers",
        "events_excluded_unknown_restoration",
    ]
    daily = (
        _calendar(events)
        .join(_counts(events), ["region_code", "date_local"], "left")
        .fillna(0, subset=count_columns)
        .fillna(0.0, subset=["customer_minutes_interrupted"])
        .withColumn("year", F.year("date_local"))
        .join(customers_served, ["region_code", "year"], "left")
        .withColumn("saidi_minutes", F.col("customer_minutes_interrupted") / F.col("customers_served"))
        .withColumn("saifi", F.col("customer_interruptions") / F.col("customers_served"))
        .drop("year")
    )
    flagged = flag_major_event_days(daily, med_thresholds(daily))
    return conform(flagged.withColumn("batch_id", F.lit(batch_id)), GOLD_RELIABILITY_DAILY)


def outage_events_gold(events: DataFrame, daily: DataFrame, batch_id: str) -> DataFrame:
    """events_local(...) -> gold_outages__events, flagged with their start day's Major Event Day status."""
    med = daily.select("region_code", "date_local", "is_major_event_day")
    joined = events.join(med, ["region_code", "date_local"], "left").fillna(False, subset=["is_major_event_day"])
    return conform(joined.withColumn("batch_id", F.lit(batch_id)), GOLD_OUTAGES_EVENTS)


def _customers_more_than_n(events: DataFrame, period_cols: list[str], cemi_n: int) -> DataFrame:
    """Per region and period: customers with more than n sustained interruptions (feeder nesting, see module doc)."""
    sustained_known = events.where(~F.col("is_open") & ~F.col("is_momentary") & ~F.col("is_customers_unknown"))
    feeder = F.coalesce(F.col("feeder_id"), F.lit(""))
    rank_window = Window.partitionBy("region_code", *period_cols, feeder).orderBy(F.col("customers_affected").desc())
    ranked = sustained_known.withColumn("rank", F.row_number().over(rank_window))
    return (
        ranked.where(F.col("rank") == cemi_n + 1)
        .groupBy("region_code", *period_cols)
        .agg(F.sum("customers_affected").alias("customers_more_than_n"))
    )


def _indices(frame: DataFrame, suffix: str) -> list[F.Column]:
    """SAIDI, SAIFI, CAIDI, MAIFI, ASAI, CEMI for one MED variant from summed customer figures."""
    n_t = F.col("customers_served")
    saidi = F.col(f"cmi_{suffix}") / n_t
    saifi = F.col(f"ci_{suffix}") / n_t
    return [
        saidi.alias(f"saidi_{suffix}_minutes"),
        saifi.alias(f"saifi_{suffix}"),
        F.when(saifi > 0, saidi / saifi).alias(f"caidi_{suffix}_minutes"),
        (F.col(f"mci_{suffix}") / n_t).alias(f"maifi_{suffix}"),
        (100.0 * (1 - saidi / (F.col("period_hours") * 60.0))).alias(f"asai_{suffix}_pct"),
        (100.0 * F.coalesce(F.col(f"cemi_customers_{suffix}"), F.lit(0)) / n_t).alias(f"cemi_{suffix}_pct"),
    ]


def period_reliability(
    daily: DataFrame, events: DataFrame, regions: Sequence[Region], contract: TableContract, cemi_n: int, batch_id: str
) -> DataFrame:
    """gold_reliability__daily + gold_outages__events -> the monthly or yearly table (chosen by `contract`)."""
    if contract.name == GOLD_RELIABILITY_MONTHLY.name:
        period_col = F.trunc("date_local", "month")
    elif contract.name == GOLD_RELIABILITY_YEARLY.name:
        period_col = F.year("date_local")
    else:
        raise ValueError(f"no reliability period for table {contract.name}")
    key = ["region_code", contract.primary_key[1]]
    not_med = ~F.col("is_major_event_day")
    sums = (
        with_region_time_zone(daily.withColumn(key[1], period_col), regions)
        .groupBy(*key)
        .agg(
            F.max("customers_served").alias("customers_served"),
            F.sum(hours_in_local_day(F.col("date_local"), F.col("time_zone"))).cast("int").alias("period_hours"),
            exact_sum("customer_minutes_interrupted").alias("cmi_w_major_event_days"),
            exact_sum(F.when(not_med, F.col("customer_minutes_interrupted")).otherwise(0.0)).alias(
                "cmi_wo_major_event_days"
            ),
            F.sum("customer_interruptions").alias("ci_w_major_event_days"),
            F.sum(F.when(not_med, F.col("customer_interruptions")).otherwise(0)).alias("ci_wo_major_event_days"),
            F.sum("momentary_customer_interruptions").alias("mci_w_major_event_days"),
            F.sum(F.when(not_med, F.col("momentary_customer_interruptions")).otherwise(0)).alias(
                "mci_wo_major_event_days"
            ),
            F.count(F.when(F.col("is_major_event_day"), 1)).cast("int").alias("major_event_days"),
            F.bool_or("is_med_threshold_provisional").alias("is_med_threshold_provisional"),
            F.sum("events_excluded_unknown_customers").alias("events_excluded_unknown_customers"),
            F.sum("events_excluded_unknown_restoration").alias("events_excluded_unknown_restoration"),
        )
    )
    events_period = events.withColumn(key[1], period_col)
    cemi_w = _customers_more_than_n(events_period, key[1:], cemi_n).withColumnRenamed(
        "customers_more_than_n", "cemi_customers_w_major_event_days"
    )
    cemi_wo = _customers_more_than_n(
        events_period.where(~F.col("is_major_event_day")), key[1:], cemi_n
    ).withColumnRenamed("customers_more_than_n", "cemi_customers_wo_major_event_days")
    joined = sums.join(cemi_w, key, "left").join(cemi_wo, key, "left")
    result = joined.select(
        "*",
        *_indices(joined, "w_major_event_days"),
        *_indices(joined, "wo_major_event_days"),
        F.lit(cemi_n).alias("cemi_n"),
        F.lit(batch_id).alias("batch_id"),
    )
    return conform(result, contract)


# ---- Gold builders (I/O): the tables are small and MED thresholds depend on years of history, so every run
# recomputes them whole from Silver ("sync") instead of patching the days a batch touched.


def _silver_events_local(ctx: GoldContext) -> DataFrame | None:
    """Silver events with local fields, built once per Gold run and shared by the four reliability builders."""

    def load() -> DataFrame | None:
        silver = ctx.read(SILVER_OUTAGE_EVENTS.name)
        if silver is None:
            return None
        check_one_source_per_region(silver)
        return events_local(silver, ctx.regions)

    return ctx.cached(("reliability", "events_local"), load)


def _daily(ctx: GoldContext, events: DataFrame) -> DataFrame:
    """The daily table (and its Major Event Days), computed once per Gold run: the other three tables derive from it."""
    return ctx.computed_once(
        "reliability_daily",
        lambda: daily_reliability(events, customers_served_frame(ctx.spark, ctx.customers_served), ctx.batch_id),
    )


def _flagged_events(ctx: GoldContext, events: DataFrame) -> DataFrame:
    """gold_outages__events (each event with its day's Major Event Day flag), computed once per Gold run: the monthly
    and yearly tables derive from it too."""
    return ctx.computed_once(
        "reliability_events", lambda: outage_events_gold(events, _daily(ctx, events), ctx.batch_id)
    )


def build_daily(ctx: GoldContext) -> DataFrame | None:
    events = _silver_events_local(ctx)
    return None if events is None else _daily(ctx, events)


def build_events(ctx: GoldContext) -> DataFrame | None:
    events = _silver_events_local(ctx)
    return None if events is None else _flagged_events(ctx, events)


def _build_period(ctx: GoldContext, contract: TableContract) -> DataFrame | None:
    events = _silver_events_local(ctx)
    if events is None:
        return None
    return period_reliability(
        _daily(ctx, events), _flagged_events(ctx, events), ctx.regions, contract, DEFAULT_CEMI_N, ctx.batch_id
    )


def build_monthly(ctx: GoldContext) -> DataFrame | None:
    return _build_period(ctx, GOLD_RELIABILITY_MONTHLY)


def build_yearly(ctx: GoldContext) -> DataFrame | None:
    return _build_period(ctx, GOLD_RELIABILITY_YEARLY)


_INPUTS = (SILVER_OUTAGE_EVENTS.name,)
BUILDERS = (
    GoldBuilder(GOLD_RELIABILITY_DAILY, build_daily, "sync", _INPUTS),
    GoldBuilder(GOLD_RELIABILITY_MONTHLY, build_monthly, "sync", _INPUTS),
    GoldBuilder(GOLD_RELIABILITY_YEARLY, build_yearly, "sync", _INPUTS),
    GoldBuilder(GOLD_OUTAGES_EVENTS, build_events, "sync", _INPUTS),
)
