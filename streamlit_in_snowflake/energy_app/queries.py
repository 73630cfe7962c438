"""Snowpark DataFrame queries on the REPORTING views.

Filters and aggregations run in the warehouse; only the small results come back as pandas. Every function is cached
per argument set (plain hashable values), and user choices reach the warehouse only as bound literals of DataFrame
expressions, never as SQL text. Ratios are formed in pandas on the aggregated rows (metrics.py) so integer division
semantics of the engine never matter.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from snowflake.snowpark import DataFrame, Session
from snowflake.snowpark import functions as F
from snowflake.snowpark.context import get_active_session

from energy_app import views

CACHE_TTL = "15m"


def _session() -> Session:
    return get_active_session()


def _view(name: str) -> DataFrame:
    return views.read(_session(), name)


def _in_window(date_column: str, start: dt.date, end: dt.date):
    return F.col(date_column).between(F.lit(start), F.lit(end))


def _demand(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date, view: str) -> DataFrame:
    in_selection = (F.col("SOURCE_ID") == F.lit(source_id)) & F.col("REGION_CODE").isin(list(regions))
    return _view(view).filter(in_selection & _in_window("DATE_LOCAL", start, end))


def _flag_sum(flag: str, value: str):
    """Sum of `value` over the rows where boolean column `flag` is false (e.g. days that are not Major Event Days)."""
    return F.sum(F.when(F.col(flag), F.lit(0)).otherwise(F.col(value)))


REGION_FIELDS = ("REGION_CODE", "REGION_NAME", "PARENT_REGION_CODE", "IS_AGGREGATE", "TIME_ZONE")


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def region_reference() -> dict[str, dict]:
    """Every region of the reference data by code: a few hundred rows at most, read once and looked up in Python
    rather than joined in each query (a join costs the warehouse two schema look-ups and a second statement)."""
    rows = _view(views.REGIONS).select(*REGION_FIELDS).collect()
    return {row["REGION_CODE"]: row.as_dict() for row in rows}


def _described(codes: DataFrame) -> list[dict]:
    """The distinct REGION_CODEs of `codes`, sorted, with their reference data; a code missing from the reference
    data still appears (named by its code) rather than vanishing."""
    reference = region_reference()
    found = sorted(row["REGION_CODE"] for row in codes.select("REGION_CODE").distinct().collect())
    unknown = {"REGION_NAME": None, "PARENT_REGION_CODE": None, "IS_AGGREGATE": False, "TIME_ZONE": None}
    return [reference.get(code) or {**unknown, "REGION_CODE": code, "REGION_NAME": code} for code in found]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def time_zones(regions: tuple[str, ...]) -> list[str]:
    """The distinct time zones of the given regions."""
    reference = region_reference()
    return sorted({reference[r]["TIME_ZONE"] for r in regions if r in reference and reference[r]["TIME_ZONE"]})


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def demand_sources() -> list[str]:
    rows = _view(views.DAILY_DEMAND).select("SOURCE_ID").distinct().sort("SOURCE_ID").collect()
    return [row["SOURCE_ID"] for row in rows]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def regions_for_source(source_id: str) -> list[dict]:
    """The regions a demand source reports, with their reference data, as plain dicts."""
    return _described(_view(views.DAILY_DEMAND).filter(F.col("SOURCE_ID") == F.lit(source_id)))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def outage_regions() -> list[dict]:
    """Regions that have outage events (some, like the NERC regions of DOE OE-417, have no demand source)."""
    return _described(_view(views.OUTAGE_EVENTS))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def demand_date_range(source_id: str) -> tuple[dt.date, dt.date]:
    row = (
        _view(views.DAILY_DEMAND)
        .filter(F.col("SOURCE_ID") == F.lit(source_id))
        .agg(F.min("DATE_LOCAL").alias("FIRST"), F.max("DATE_LOCAL").alias("LAST"))
        .collect()[0]
    )
    return row["FIRST"], row["LAST"]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def outage_date_range() -> tuple[dt.date, dt.date] | None:
    """First and last local day of the outage events; None without any."""
    row = (
        _view(views.OUTAGE_EVENTS)
        .agg(F.min("DATE_LOCAL").alias("FIRST"), F.max("DATE_LOCAL").alias("LAST"))
        .collect()[0]
    )
    return (row["FIRST"], row["LAST"]) if row["FIRST"] is not None else None


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def daily_demand(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    """DAILY_DEMAND rows of the selection (one per region and local day)."""
    df = _demand(source_id, regions, start, end, views.DAILY_DEMAND).sort("REGION_CODE", "DATE_LOCAL")
    return df.to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def demand_totals(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> dict:
    """Energy and the average of the daily load factors over the selection."""
    row = (
        _demand(source_id, regions, start, end, views.DAILY_DEMAND)
        .agg(
            F.sum("ENERGY_MWH").alias("ENERGY_MWH"),
            F.avg("LOAD_FACTOR").alias("AVG_LOAD_FACTOR"),
            F.count(F.lit(1)).alias("REGION_DAYS"),
        )
        .collect()[0]
    )
    return {k: (float(v) if v is not None else None) for k, v in row.as_dict().items()}


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def selection_peak(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> dict | None:
    """The hour at which the selected regions together drew the most power (their coincident peak).

    Callers check first that the selection has demand: the local-testing engine cannot sort an empty aggregate.
    """
    rows = (
        _demand(source_id, regions, start, end, views.HOURLY_DEMAND)
        .group_by("INTERVAL_START_UTC")
        .agg(
            F.sum("DEMAND_MW").alias("DEMAND_MW"),
            F.max("INTERVAL_START_LOCAL").alias("INTERVAL_START_LOCAL"),
        )
        .filter(F.col("DEMAND_MW").is_not_null())
        .sort(F.col("DEMAND_MW").desc(), F.col("INTERVAL_START_UTC"))
        .limit(1)
        .collect()
    )
    return rows[0].as_dict() if rows else None


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def hourly_heatmap(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Mean demand of the selection per local date and local hour (a repeated DST hour is averaged, not added)."""
    df = (
        _demand(source_id, regions, start, end, views.HOURLY_DEMAND)
        .group_by("DATE_LOCAL", "HOUR_LOCAL")
        .agg(F.sum("DEMAND_MW").alias("TOTAL_MW"), F.count_distinct("INTERVAL_START_UTC").alias("INTERVALS"))
        .to_pandas()
        .sort_values(["DATE_LOCAL", "HOUR_LOCAL"], ignore_index=True)
    )
    df["MEAN_DEMAND_MW"] = df["TOTAL_MW"] / df["INTERVALS"]
    return df[["DATE_LOCAL", "HOUR_LOCAL", "MEAN_DEMAND_MW"]]


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_shape(source_id: str, regions: tuple[str, ...], months: tuple[int, ...]) -> pd.DataFrame:
    df = (
        _view(views.HOURLY_LOAD_SHAPE)
        .filter(
            (F.col("SOURCE_ID") == F.lit(source_id))
            & F.col("REGION_CODE").isin(list(regions))
            & F.col("MONTH").isin(list(months))
        )
        .sort("REGION_CODE", "MONTH", "DAY_TYPE", "HOUR_LOCAL")
    )
    return df.to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_factor_periods(
    view: str, source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Weekly or monthly load factor rows whose period starts inside the window."""
    df = (
        _view(view)
        .filter(
            (F.col("SOURCE_ID") == F.lit(source_id))
            & F.col("REGION_CODE").isin(list(regions))
            & _in_window("PERIOD_START_DATE", start, end)
        )
        .sort("REGION_CODE", "PERIOD_START_DATE")
    )
    return df.to_pandas()


def _reliability(view: str, date_column: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> DataFrame:
    return _view(view).filter(F.col("REGION_CODE").isin(list(regions)) & _in_window(date_column, start, end))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def reliability_by_region(regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per region: the window's sums of daily SAIDI / SAIFI with and without Major Event Days, customers served."""
    df = (
        _reliability(views.RELIABILITY_DAILY, "DATE_LOCAL", regions, start, end)
        .group_by("REGION_CODE")
        .agg(
            F.sum("SAIDI_MINUTES").alias("SAIDI_W_MED_MINUTES"),
            _flag_sum("IS_MAJOR_EVENT_DAY", "SAIDI_MINUTES").alias("SAIDI_WO_MED_MINUTES"),
            F.sum("SAIFI").alias("SAIFI_W_MED"),
            _flag_sum("IS_MAJOR_EVENT_DAY", "SAIFI").alias("SAIFI_WO_MED"),
            F.avg("CUSTOMERS_SERVED").alias("CUSTOMERS_SERVED"),
            F.sum(F.when(F.col("IS_MAJOR_EVENT_DAY"), F.lit(1)).otherwise(F.lit(0))).alias("MAJOR_EVENT_DAYS"),
            F.count(F.lit(1)).alias("DAYS"),
        )
        .to_pandas()
    )
    return df.sort_values("REGION_CODE", ignore_index=True)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def reliability_daily(regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    columns = [
        "REGION_CODE",
        "REGION_NAME",
        "DATE_LOCAL",
        "SAIDI_MINUTES",
        "SAIFI",
        "CUSTOMERS_SERVED",
        "IS_MAJOR_EVENT_DAY",
        "MED_THRESHOLD_SAIDI_MINUTES",
        "IS_MED_THRESHOLD_PROVISIONAL",
        "MED_HISTORY_DAYS",
    ]
    df = _reliability(views.RELIABILITY_DAILY, "DATE_LOCAL", regions, start, end).select(columns)
    return df.sort("REGION_CODE", "DATE_LOCAL").to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def reliability_monthly(regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    first_month = start.replace(day=1)
    df = _reliability(views.RELIABILITY_MONTHLY, "MONTH_START_DATE", regions, first_month, end)
    return df.sort("REGION_CODE", "MONTH_START_DATE").to_pandas()


def _events(regions: tuple[str, ...], start: dt.date, end: dt.date, include_med: bool) -> DataFrame:
    df = _reliability(views.OUTAGE_EVENTS, "DATE_LOCAL", regions, start, end)
    return df if include_med else df.filter(~F.col("IS_MAJOR_EVENT_DAY"))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def event_totals(regions: tuple[str, ...], start: dt.date, end: dt.date, include_med: bool) -> dict:
    """Number of outage events and customers affected (where known) in the window."""
    row = (
        _events(regions, start, end, include_med)
        .agg(
            F.count(F.lit(1)).alias("EVENTS"),
            F.sum("CUSTOMERS_AFFECTED").alias("CUSTOMERS_AFFECTED"),
            F.sum(F.when(F.col("IS_CUSTOMERS_UNKNOWN"), F.lit(1)).otherwise(F.lit(0))).alias("UNKNOWN_CUSTOMERS"),
        )
        .collect()[0]
    )
    return {k: int(v or 0) for k, v in row.as_dict().items()}


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def largest_events(
    regions: tuple[str, ...], start: dt.date, end: dt.date, include_med: bool, limit: int = 25
) -> pd.DataFrame:
    """The events with the most customer-minutes interrupted (customers unknown sort last)."""
    df = _events(regions, start, end, include_med).select(
        "STARTED_AT_LOCAL",
        "REGION_CODE",
        "DURATION_MINUTES",
        "CUSTOMERS_AFFECTED",
        (F.col("DURATION_MINUTES") * F.col("CUSTOMERS_AFFECTED")).alias("CUSTOMER_MINUTES"),
        "CAUSE",
        "IS_MAJOR_EVENT_DAY",
        "IS_OPEN",
        "FEEDER_ID",
        "EVENT_ID",
        "SOURCE_ID",
    )
    top = df.sort(F.col("CUSTOMER_MINUTES").desc_nulls_last(), F.col("DURATION_MINUTES").desc_nulls_last())
    return top.limit(limit).to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def events_by_cause(regions: tuple[str, ...], start: dt.date, end: dt.date, include_med: bool) -> pd.DataFrame:
    df = (
        _events(regions, start, end, include_med)
        .with_column("CAUSE_GROUP", F.coalesce(F.col("CAUSE"), F.lit("Unknown")))
        .group_by("CAUSE_GROUP")
        .agg(
            F.count(F.lit(1)).alias("EVENTS"),
            F.sum("CUSTOMERS_AFFECTED").alias("CUSTOMERS_AFFECTED"),
            F.sum(F.col("DURATION_MINUTES") * F.col("CUSTOMERS_AFFECTED")).alias("CUSTOMER_MINUTES"),
        )
        .to_pandas()
    )
    df = df.sort_values(["EVENTS", "CAUSE_GROUP"], ascending=[False, True], ignore_index=True)
    return df.rename(columns={"CAUSE_GROUP": "CAUSE"})


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def data_freshness() -> pd.DataFrame:
    return _view(views.DATA_FRESHNESS).sort("TABLE_NAME").to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def quarantine_by_source() -> pd.DataFrame:
    df = (
        _view(views.QUARANTINE_SUMMARY)
        .group_by("SOURCE_ID", "REASON")
        .agg(F.sum("ROW_COUNT").alias("ROWS_QUARANTINED"))
        .to_pandas()
    )
    return df.sort_values(["SOURCE_ID", "ROWS_QUARANTINED"], ascending=[True, False], ignore_index=True)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def file_accounting() -> pd.DataFrame:
    return _view(views.FILE_ACCOUNTING).sort("SOURCE_ID", "SOURCE_FILE").to_pandas()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def incomplete_days(source_id: str, regions: tuple[str, ...], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Region-days of the selection with fewer hours reported than the local day has."""
    df = (
        _demand(source_id, regions, start, end, views.DAILY_DEMAND)
        .filter(F.col("HOURS_REPORTED") < F.col("HOURS_EXPECTED"))
        .select("REGION_CODE", "DATE_LOCAL", "HOURS_REPORTED", "HOURS_EXPECTED", "COMPLETENESS_PCT", "IMPUTED_HOURS")
        .sort("REGION_CODE", "DATE_LOCAL")
    )
    return df.to_pandas()
