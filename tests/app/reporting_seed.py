"""Seeded rows for the REPORTING views, for the app tests (Snowpark local testing) and the browser test (fakesnow).

The rows are generated, not taken from the pipeline: hourly demand and temperature follow a seasonal and daily shape
with noise (numpy seed), outage events are drawn per day, and every aggregate view (daily, load shape, load factor,
reliability) is derived from those hourly rows and events with pandas here, so the views agree with each other the
way the real ones do. Column lists follow the contracts (databricks_jobs/tables.py) and the agreed reporting views.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from databricks_jobs import tables

TIME_ZONE = "America/Chicago"
BATCH_ID = "20261125T201500Z-3f9a1c2b"
REGIONS = pd.DataFrame(
    [
        ("ERCOT", "ERCOT system (balancing authority)", None, True, TIME_ZONE),
        ("COAST", "ERCOT Coast weather zone (Houston)", "ERCOT", False, TIME_ZONE),
        ("NCENT", "ERCOT North Central weather zone (Dallas-Fort Worth)", "ERCOT", False, TIME_ZONE),
        ("SCENT", "ERCOT South Central weather zone (Austin / San Antonio)", "ERCOT", False, TIME_ZONE),
        ("NERC_TRE", "NERC Texas Reliability Entity (OE-417)", None, False, TIME_ZONE),
    ],
    columns=["REGION_CODE", "REGION_NAME", "PARENT_REGION_CODE", "IS_AGGREGATE", "TIME_ZONE"],
)
ZONE_BASE_MW = {"COAST": 12_000.0, "NCENT": 11_000.0, "SCENT": 6_000.0}
CUSTOMERS_SERVED = {"COAST": 250_000, "NCENT": 400_000}  # SCENT has no outage log; NERC_TRE has no customer count
CAUSES = ["Vegetation", "Equipment failure", "Weather", "Animal", "Vehicle accident", None]
# Hours removed from the hourly feed so that some days are incomplete: (source, region, local date, local hours).
MISSING_HOURS = [("ercot_native_load", "SCENT", 20, (3, 4, 5))]


def _upper(names: list[str]) -> list[str]:
    return [name.upper() for name in names]


def contract_view_columns(table_name: str, with_region_name: bool = True) -> list[str]:
    """A '<gold table> columns upper-cased, + REGION_NAME' view's columns (contract)."""
    columns = _upper(tables.contract(table_name).column_names)
    return [*columns, "REGION_NAME"] if with_region_name else columns


def hourly(start: dt.date, days: int, seed: int = 7) -> pd.DataFrame:
    """HOURLY_DEMAND rows for two sources: ERCOT's native load (3 zones + the ERCOT total) and EIA-930 cleaned."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start).tz_localize(TIME_ZONE).tz_convert("UTC")
    after_last = pd.Timestamp(start + dt.timedelta(days=days)).tz_localize(TIME_ZONE).tz_convert("UTC")
    utc = pd.date_range(first, after_last, freq="h", inclusive="left")  # whole local days, DST days included
    local = utc.tz_convert(TIME_ZONE)
    day_of_year = local.dayofyear.to_numpy()
    hour = local.hour.to_numpy()
    frames = []
    for offset, (region, base) in enumerate(ZONE_BASE_MW.items()):
        temperature = (
            20 + 9 * np.sin(2 * np.pi * (day_of_year - 105) / 365) + 5 * np.sin(2 * np.pi * (hour - 9) / 24) + offset
        ) + rng.normal(0, 1.5, len(utc))
        daily_shape = 1 + 0.18 * np.sin(2 * np.pi * (hour - 10) / 24)
        weather_load = 1 + 0.0016 * (temperature - 18) ** 2
        demand = base * daily_shape * weather_load * (1 - 0.06 * (local.dayofweek.to_numpy() >= 5))
        frames.append(
            pd.DataFrame(
                {
                    "REGION_CODE": region,
                    "INTERVAL_START_UTC": utc.tz_localize(None),
                    "INTERVAL_START_LOCAL": local.tz_localize(None),
                    "DEMAND_MW": demand + rng.normal(0, base * 0.01, len(utc)),
                    "TEMPERATURE_C": temperature,
                }
            )
        )
    zones = pd.concat(frames, ignore_index=True)
    total = zones.groupby(["INTERVAL_START_UTC", "INTERVAL_START_LOCAL"], as_index=False)["DEMAND_MW"].sum()
    total["REGION_CODE"], total["TEMPERATURE_C"] = "ERCOT", np.nan
    ercot = pd.concat([zones, total], ignore_index=True).assign(SOURCE_ID="ercot_native_load")
    eia = zones.assign(SOURCE_ID="eia930_cleaned", DEMAND_MW=zones["DEMAND_MW"] * 0.985)
    rows = pd.concat([ercot, eia], ignore_index=True)
    rows["DATE_LOCAL"] = rows["INTERVAL_START_LOCAL"].dt.date
    rows["HOUR_LOCAL"] = rows["INTERVAL_START_LOCAL"].dt.hour.astype("int64")
    rows["IS_IMPUTED"] = False
    for source, region, day_index, hours in MISSING_HOURS:
        day = start + dt.timedelta(days=day_index)
        drop = (
            (rows["SOURCE_ID"] == source)
            & (rows["REGION_CODE"] == region)
            & (rows["DATE_LOCAL"] == day)
            & rows["HOUR_LOCAL"].isin(hours)
        )
        rows = rows[~drop]
    columns = ["SOURCE_ID", "REGION_CODE", "INTERVAL_START_UTC", "INTERVAL_START_LOCAL", "DATE_LOCAL", "HOUR_LOCAL"]
    return rows[[*columns, "DEMAND_MW", "IS_IMPUTED", "TEMPERATURE_C"]].reset_index(drop=True)


def _hours_in_local_day(day: dt.date) -> int:
    start = pd.Timestamp(day).tz_localize(TIME_ZONE)
    return int((pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(TIME_ZONE) - start) / pd.Timedelta(hours=1))


def degree_days(hourly_rows: pd.DataFrame) -> pd.DataFrame:
    weather = hourly_rows[hourly_rows["SOURCE_ID"] == "ercot_native_load"].dropna(subset=["TEMPERATURE_C"])
    daily = weather.groupby(["REGION_CODE", "DATE_LOCAL"], as_index=False)["TEMPERATURE_C"].mean()
    fahrenheit = daily["TEMPERATURE_C"] * 9 / 5 + 32
    return daily.assign(
        MEAN_TEMPERATURE_C=daily["TEMPERATURE_C"],
        HEATING_DEGREE_DAYS_F=(65 - fahrenheit).clip(lower=0),
        COOLING_DEGREE_DAYS_F=(fahrenheit - 65).clip(lower=0),
    ).drop(columns="TEMPERATURE_C")


def daily_demand(hourly_rows: pd.DataFrame) -> pd.DataFrame:
    """DAILY_DEMAND: per source, region and local day, with degree days left-joined on region and date."""
    keys = ["SOURCE_ID", "REGION_CODE", "DATE_LOCAL"]
    grouped = hourly_rows.groupby(keys)
    daily = grouped.agg(
        ENERGY_MWH=("DEMAND_MW", "sum"),
        PEAK_DEMAND_MW=("DEMAND_MW", "max"),
        MIN_DEMAND_MW=("DEMAND_MW", "min"),
        AVG_DEMAND_MW=("DEMAND_MW", "mean"),
        HOURS_REPORTED=("DEMAND_MW", "count"),
    ).reset_index()
    peak_rows = hourly_rows.loc[grouped["DEMAND_MW"].idxmax(), [*keys, "INTERVAL_START_LOCAL"]]
    daily = daily.merge(peak_rows.rename(columns={"INTERVAL_START_LOCAL": "PEAK_INTERVAL_START_LOCAL"}), on=keys)
    daily["LOAD_FACTOR"] = daily["AVG_DEMAND_MW"] / daily["PEAK_DEMAND_MW"]
    daily["HOURS_EXPECTED"] = daily["DATE_LOCAL"].map(_hours_in_local_day)
    daily["COMPLETENESS_PCT"] = 100.0 * daily["HOURS_REPORTED"] / daily["HOURS_EXPECTED"]
    daily["IMPUTED_HOURS"] = 0
    daily = daily.merge(REGIONS[["REGION_CODE", "REGION_NAME"]], on="REGION_CODE", how="left")
    daily = daily.merge(degree_days(hourly_rows), on=["REGION_CODE", "DATE_LOCAL"], how="left")
    columns = [
        "SOURCE_ID", "REGION_CODE", "REGION_NAME", "DATE_LOCAL", "ENERGY_MWH", "PEAK_DEMAND_MW",
        "PEAK_INTERVAL_START_LOCAL", "MIN_DEMAND_MW", "AVG_DEMAND_MW", "LOAD_FACTOR", "HOURS_REPORTED",
        "HOURS_EXPECTED", "COMPLETENESS_PCT", "IMPUTED_HOURS", "MEAN_TEMPERATURE_C", "HEATING_DEGREE_DAYS_F",
        "COOLING_DEGREE_DAYS_F",
    ]  # fmt: skip
    return daily[columns]


def load_shape(hourly_rows: pd.DataFrame) -> pd.DataFrame:
    rows = hourly_rows.assign(
        MONTH=pd.to_datetime(hourly_rows["DATE_LOCAL"]).dt.month,
        DAY_TYPE=np.where(pd.to_datetime(hourly_rows["DATE_LOCAL"]).dt.dayofweek >= 5, "weekend", "weekday"),
    )
    shape = (
        rows.groupby(["SOURCE_ID", "REGION_CODE", "MONTH", "DAY_TYPE", "HOUR_LOCAL"])["DEMAND_MW"]
        .agg(MEAN_DEMAND_MW="mean", P95_DEMAND_MW=lambda s: s.quantile(0.95), HOURS_COUNT="count")
        .reset_index()
    )
    return shape


def load_factor_periods(daily: pd.DataFrame, period: str) -> pd.DataFrame:
    """LOAD_FACTOR_WEEKLY ('W', weeks from Monday) or _MONTHLY ('M'): energy / (peak x hours)."""
    dates = pd.to_datetime(daily["DATE_LOCAL"])
    start = dates - pd.to_timedelta(dates.dt.dayofweek, unit="D") if period == "W" else dates.dt.to_period("M")
    frame = daily.assign(PERIOD_START_DATE=(start if period == "W" else start.dt.to_timestamp()).dt.date)
    out = (
        frame.groupby(["SOURCE_ID", "REGION_CODE", "PERIOD_START_DATE"])
        .agg(
            ENERGY_MWH=("ENERGY_MWH", "sum"),
            PEAK_DEMAND_MW=("PEAK_DEMAND_MW", "max"),
            HOURS_REPORTED=("HOURS_REPORTED", "sum"),
        )
        .reset_index()
    )
    out["AVG_DEMAND_MW"] = out["ENERGY_MWH"] / out["HOURS_REPORTED"]
    out["LOAD_FACTOR"] = out["ENERGY_MWH"] / (out["PEAK_DEMAND_MW"] * out["HOURS_REPORTED"])
    return out


def outage_events(start: dt.date, days: int, seed: int = 11) -> pd.DataFrame:
    """OUTAGE_EVENTS: a few events a day in COAST and NCENT (storm days with many), and OE-417 events in NERC_TRE."""
    rng = np.random.default_rng(seed)
    rows = []
    for day_index in range(days):
        day = start + dt.timedelta(days=day_index)
        storm = day_index % 53 == 40
        for region in ("COAST", "NCENT", "NERC_TRE"):
            count = rng.poisson(0.2 if region == "NERC_TRE" else (30 if storm else 2))
            for n in range(count):
                minute = int(rng.integers(0, 24 * 60))
                started_local = pd.Timestamp(day) + pd.Timedelta(minutes=minute)
                duration = float(np.round(rng.lognormal(4.0 if not storm else 5.0, 0.8)))
                momentary = duration <= 5
                unknown = region != "NERC_TRE" and n % 17 == 16
                customers = None if unknown else int(rng.integers(20, 1_500 if not storm else 6_000))
                started_utc = started_local.tz_localize(TIME_ZONE, ambiguous=True, nonexistent="shift_forward")
                rows.append(
                    {
                        "SOURCE_ID": "doe_oe417" if region == "NERC_TRE" else "synthetic_oms_outages",
                        "EVENT_ID": f"{region}-{day:%Y%m%d}-{n:03d}",
                        "REGION_CODE": region,
                        "FEEDER_ID": None if region == "NERC_TRE" else f"{region}-F{int(rng.integers(1, 40)):02d}",
                        "STARTED_AT_UTC": started_utc.tz_convert("UTC").tz_localize(None),
                        "RESTORED_AT_UTC": (started_utc + pd.Timedelta(minutes=duration))
                        .tz_convert("UTC")
                        .tz_localize(None),
                        "STARTED_AT_LOCAL": started_local,
                        "RESTORED_AT_LOCAL": started_local + pd.Timedelta(minutes=duration),
                        "DATE_LOCAL": day,
                        "DURATION_MINUTES": duration,
                        "CUSTOMERS_AFFECTED": customers,
                        "IS_CUSTOMERS_UNKNOWN": customers is None,
                        "IS_MOMENTARY": momentary,
                        "IS_OPEN": False,
                        "CAUSE": CAUSES[int(rng.integers(0, len(CAUSES)))] if not storm else "Weather",
                        "DEVICE": None,
                    }
                )
    events = pd.DataFrame(rows)
    events["CUSTOMERS_AFFECTED"] = events["CUSTOMERS_AFFECTED"].astype("Int64")
    return events


def reliability_daily(events: pd.DataFrame, start: dt.date, days: int) -> pd.DataFrame:
    """RELIABILITY_DAILY: every day for every region with an outage log; the MED threshold is a fixed provisional
    value here (the seeded history is short), and a day above it is a Major Event Day."""
    frames = []
    for region in ("COAST", "NCENT", "NERC_TRE"):
        calendar = pd.DataFrame({"DATE_LOCAL": [start + dt.timedelta(days=i) for i in range(days)]})
        own = events[(events["REGION_CODE"] == region) & ~events["IS_CUSTOMERS_UNKNOWN"]]
        sustained = own[~own["IS_MOMENTARY"]]
        momentary = own[own["IS_MOMENTARY"]]
        per_day = (
            sustained.assign(CMI=sustained["DURATION_MINUTES"] * sustained["CUSTOMERS_AFFECTED"].astype(float))
            .groupby("DATE_LOCAL")
            .agg(
                SUSTAINED_INTERRUPTIONS=("EVENT_ID", "count"),
                CUSTOMER_INTERRUPTIONS=("CUSTOMERS_AFFECTED", "sum"),
                CUSTOMER_MINUTES_INTERRUPTED=("CMI", "sum"),
            )
            .reset_index()
        )
        per_momentary = (
            momentary.groupby("DATE_LOCAL")
            .agg(
                MOMENTARY_INTERRUPTIONS=("EVENT_ID", "count"),
                MOMENTARY_CUSTOMER_INTERRUPTIONS=("CUSTOMERS_AFFECTED", "sum"),
            )
            .reset_index()
        )
        unknown = events[(events["REGION_CODE"] == region) & events["IS_CUSTOMERS_UNKNOWN"]]
        per_unknown = unknown.groupby("DATE_LOCAL").size().rename("EVENTS_EXCLUDED_UNKNOWN_CUSTOMERS").reset_index()
        day = calendar.merge(per_day, how="left").merge(per_momentary, how="left").merge(per_unknown, how="left")
        day = day.fillna(0)
        served = CUSTOMERS_SERVED.get(region)
        day["REGION_CODE"] = region
        day["CUSTOMERS_SERVED"] = served
        day["SAIDI_MINUTES"] = day["CUSTOMER_MINUTES_INTERRUPTED"] / served if served else np.nan
        day["SAIFI"] = day["CUSTOMER_INTERRUPTIONS"] / served if served else np.nan
        threshold = 12.0 if served else np.nan
        day["MED_THRESHOLD_SAIDI_MINUTES"] = threshold
        day["IS_MAJOR_EVENT_DAY"] = (day["SAIDI_MINUTES"] > threshold).fillna(False).astype(bool)
        day["IS_MED_THRESHOLD_PROVISIONAL"] = True
        day["MED_HISTORY_DAYS"] = 365
        day["EVENTS_EXCLUDED_UNKNOWN_RESTORATION"] = 0  # every seeded event has its restoration time
        frames.append(day)
    daily = pd.concat(frames, ignore_index=True)
    for column in ("SUSTAINED_INTERRUPTIONS", "MOMENTARY_INTERRUPTIONS", "CUSTOMER_INTERRUPTIONS",
                   "MOMENTARY_CUSTOMER_INTERRUPTIONS", "EVENTS_EXCLUDED_UNKNOWN_CUSTOMERS"):  # fmt: skip
        daily[column] = daily[column].astype("int64")
    daily["CUSTOMERS_SERVED"] = daily["CUSTOMERS_SERVED"].astype("Int64")
    daily["BATCH_ID"] = BATCH_ID
    daily = daily.merge(REGIONS[["REGION_CODE", "REGION_NAME"]], on="REGION_CODE")
    return daily[contract_view_columns("gold_reliability__daily")]


def reliability_monthly(daily: pd.DataFrame) -> pd.DataFrame:
    frame = daily.assign(
        MONTH_START_DATE=pd.to_datetime(daily["DATE_LOCAL"]).dt.to_period("M").dt.to_timestamp().dt.date
    )
    frame["SAIDI_WO"] = frame["SAIDI_MINUTES"].where(~frame["IS_MAJOR_EVENT_DAY"], 0.0)
    frame["SAIFI_WO"] = frame["SAIFI"].where(~frame["IS_MAJOR_EVENT_DAY"], 0.0)
    monthly = (
        frame.groupby(["REGION_CODE", "REGION_NAME", "MONTH_START_DATE"], dropna=False)
        .agg(
            CUSTOMERS_SERVED=("CUSTOMERS_SERVED", "max"),
            DAYS=("DATE_LOCAL", "count"),
            SAIDI_W_MAJOR_EVENT_DAYS_MINUTES=("SAIDI_MINUTES", lambda s: s.sum(min_count=1)),
            SAIDI_WO_MAJOR_EVENT_DAYS_MINUTES=("SAIDI_WO", lambda s: s.sum(min_count=1)),
            SAIFI_W_MAJOR_EVENT_DAYS=("SAIFI", lambda s: s.sum(min_count=1)),
            SAIFI_WO_MAJOR_EVENT_DAYS=("SAIFI_WO", lambda s: s.sum(min_count=1)),
            MAJOR_EVENT_DAYS=("IS_MAJOR_EVENT_DAY", "sum"),
            EVENTS_EXCLUDED_UNKNOWN_CUSTOMERS=("EVENTS_EXCLUDED_UNKNOWN_CUSTOMERS", "sum"),
            EVENTS_EXCLUDED_UNKNOWN_RESTORATION=("EVENTS_EXCLUDED_UNKNOWN_RESTORATION", "sum"),
        )
        .reset_index()
    )
    monthly["PERIOD_HOURS"] = monthly["DAYS"] * 24
    for med in ("W", "WO"):
        saidi = monthly[f"SAIDI_{med}_MAJOR_EVENT_DAYS_MINUTES"]
        saifi = monthly[f"SAIFI_{med}_MAJOR_EVENT_DAYS"]
        monthly[f"CAIDI_{med}_MAJOR_EVENT_DAYS_MINUTES"] = saidi / saifi.where(saifi > 0)
        monthly[f"MAIFI_{med}_MAJOR_EVENT_DAYS"] = np.nan
        monthly[f"ASAI_{med}_MAJOR_EVENT_DAYS_PCT"] = 100 * (1 - saidi / 60 / monthly["PERIOD_HOURS"])
        monthly[f"CEMI_{med}_MAJOR_EVENT_DAYS_PCT"] = np.nan
    monthly["CEMI_N"] = 3
    monthly["MAJOR_EVENT_DAYS"] = monthly["MAJOR_EVENT_DAYS"].astype("int64")
    monthly["IS_MED_THRESHOLD_PROVISIONAL"] = True
    monthly["BATCH_ID"] = BATCH_ID
    return monthly[contract_view_columns("gold_reliability__monthly")]


def quality_views(hourly_rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    loaded_at = pd.Timestamp("2026-11-25 20:16:00")
    checked_at = pd.Timestamp("2026-11-26 06:00:00")  # the next day's run found no newer batch
    freshness = pd.DataFrame(
        [(t.name.upper(), BATCH_ID, loaded_at, checked_at, 1000 + i) for i, t in enumerate(tables.GOLD_TABLES)],
        columns=["TABLE_NAME", "BATCH_ID", "LAST_CHANGED_AT_UTC", "LAST_CHECKED_AT_UTC", "ROW_COUNT"],
    )
    accounting = pd.DataFrame(
        [
            ("ercot_native_load", "Native_Load_2021.xlsx", 8761, 8757, 4, 0),
            ("eia930_cleaned", "ERCO-COAS.csv", 43850, 43848, 2, 0),
            ("doe_oe417", "2021_Annual_Summary.xls", 120, 117, 3, 0),
        ],
        columns=["SOURCE_ID", "SOURCE_FILE", "ROWS_IN", "ROWS_KEPT", "ROWS_QUARANTINED", "ROWS_EXACT_DUPLICATE"],
    ).assign(INGESTED_AT_UTC=loaded_at, BATCH_ID=BATCH_ID)
    quarantine = pd.DataFrame(
        [
            ("ercot_native_load", "Native_Load_2021.xlsx", "unparseable_timestamp", 4),
            ("eia930_cleaned", "ERCO-COAS.csv", "negative_demand", 2),
            ("doe_oe417", "2021_Annual_Summary.xls", "unknown_region", 2),
            ("doe_oe417", "2021_Annual_Summary.xls", "unparseable_timestamp", 1),
        ],
        columns=["SOURCE_ID", "SOURCE_FILE", "REASON", "ROW_COUNT"],
    ).assign(BATCH_ID=BATCH_ID)
    return {"DATA_FRESHNESS": freshness, "FILE_ACCOUNTING": accounting, "QUARANTINE_SUMMARY": quarantine}


def reporting_views(start: dt.date = dt.date(2021, 1, 1), days: int = 120) -> dict[str, pd.DataFrame]:
    """Every REPORTING view the app reads, by view name, as pandas frames with the contract's columns."""
    hourly_rows = hourly(start, days)
    daily = daily_demand(hourly_rows)
    events = outage_events(start, days)
    events = events.merge(REGIONS[["REGION_CODE", "REGION_NAME"]], on="REGION_CODE")
    rel_daily = reliability_daily(events, start, days)
    med_days = rel_daily.loc[rel_daily["IS_MAJOR_EVENT_DAY"], ["REGION_CODE", "DATE_LOCAL"]].assign(MED=True)
    events = events.merge(med_days, on=["REGION_CODE", "DATE_LOCAL"], how="left")
    events["IS_MAJOR_EVENT_DAY"] = events.pop("MED").notna()
    events["BATCH_ID"] = BATCH_ID
    return {
        "REGIONS": REGIONS,
        "DAILY_DEMAND": daily,
        "HOURLY_DEMAND": hourly_rows,
        "HOURLY_LOAD_SHAPE": load_shape(hourly_rows),
        "LOAD_FACTOR_WEEKLY": load_factor_periods(daily, "W"),
        "LOAD_FACTOR_MONTHLY": load_factor_periods(daily, "M"),
        "RELIABILITY_DAILY": rel_daily,
        "RELIABILITY_MONTHLY": reliability_monthly(rel_daily),
        "OUTAGE_EVENTS": events[contract_view_columns("gold_outages__events")],
        **quality_views(hourly_rows),
    }


def column_type(name: str, series: pd.Series) -> str:
    """The Snowflake type of a seeded view column, from its name (contract naming rules) and pandas dtype."""
    if name in ("DATE_LOCAL", "MONTH_START_DATE", "PERIOD_START_DATE"):
        return "DATE"
    if name.endswith(("_UTC", "_LOCAL")) and name != "HOUR_LOCAL":
        return "TIMESTAMP_NTZ"
    if name.startswith("IS_"):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series.dtype):
        return "DOUBLE"
    return "VARCHAR"


def python_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python values: None for any missing value, datetime for timestamps, date for dates."""

    def plain(value):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if isinstance(value, np.generic) else value

    return [tuple(plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]


def write_to_local_warehouse(db_path: Path, frames: dict[str, pd.DataFrame], database: str = "ENERGY") -> None:
    """Create {database}.REPORTING.<view> tables from the frames in a local warehouse's DuckDB folder.

    Runs fakesnow in-process on the folder before the warehouse server opens it (DuckDB allows one writer), with
    the connector's write_pandas (use_logical_type keeps timestamps as timestamps).
    """
    import fakesnow
    import snowflake.connector
    import snowflake.connector.pandas_tools as pandas_tools

    db_path.mkdir(parents=True, exist_ok=True)
    with fakesnow.patch(db_path=str(db_path)):
        connection = snowflake.connector.connect(database=database, schema="REPORTING")
        try:
            for name, frame in frames.items():
                columns = ", ".join(f"{c} {column_type(c, frame[c])}" for c in frame.columns)
                connection.cursor().execute(f"CREATE OR REPLACE TABLE {database}.REPORTING.{name} ({columns})")
                pandas_tools.write_pandas(connection, frame, name, use_logical_type=True, quote_identifiers=False)
        finally:
            connection.close()
