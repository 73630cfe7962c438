"""Gold transformations on small inline Silver rows, against pandas + zoneinfo or hand-computed figures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from pyspark.errors import PySparkException
from pyspark.sql import functions as F

from databricks_jobs.gold.demand_coincident_peak import coincident_peak
from databricks_jobs.gold.demand_daily import daily_demand
from databricks_jobs.gold.demand_hourly_profile import hourly_profile
from databricks_jobs.gold.local_time import with_local_fields
from databricks_jobs.gold.weather import daily_degree_days, hourly_weather
from databricks_jobs.gold.writer import conform
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.tables import (
    GOLD_DEMAND_DAILY,
    GOLD_DEMAND_HOURLY_PROFILE,
    GOLD_DEMAND_HOURLY_WEATHER,
    GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK,
    GOLD_WEATHER_DAILY_DEGREE_DAYS,
    SILVER_DEMAND_HOURLY,
    SILVER_WEATHER_HOURLY,
)

pytestmark = pytest.mark.spark


def demand_rows(source: str, region: str, start_utc: datetime, values: list[float | None], imputed=()) -> list[tuple]:
    rows = []
    for i, value in enumerate(values):
        start = start_utc + timedelta(hours=i)
        rows.append(
            (source, region, start, start + timedelta(hours=1), value, value, None, i in imputed, "f.csv", i, "b0")
        )
    return rows


def silver_demand(spark, rows):
    return spark.createDataFrame(rows, SILVER_DEMAND_HOURLY.spark_schema())


def test_daily_demand_matches_pandas_across_both_dst_changes(spark):
    # Two windows of UTC hours covering the 23-hour and the 25-hour local days of 2021, with one gap and imputations.
    rows = []
    for start in (datetime(2021, 3, 13, 6), datetime(2021, 11, 6, 5)):
        values = [1000.0 + (i * 37) % 211 for i in range(72)]
        values[30] = None  # a reported hour with no usable value
        rows += demand_rows("t", "COAST", start, values, imputed={5, 30, 40})
    hourly = with_local_fields(silver_demand(spark, rows), load_regions())
    got = conform(daily_demand(hourly, "b1"), GOLD_DEMAND_DAILY).toPandas().set_index("date_local").sort_index()

    frame = pd.DataFrame(rows, columns=SILVER_DEMAND_HOURLY.column_names)
    frame["local"] = pd.to_datetime(frame["interval_start_utc"]).dt.tz_localize("UTC").dt.tz_convert("America/Chicago")
    frame["date_local"] = frame["local"].dt.date
    ok = frame.dropna(subset=["demand_mw"])
    expected = ok.groupby("date_local").agg(
        energy_mwh=("demand_mw", "sum"),
        peak_demand_mw=("demand_mw", "max"),
        min_demand_mw=("demand_mw", "min"),
        hours_reported=("demand_mw", "size"),
        imputed_hours=("is_imputed", "sum"),
    )
    peak_rows = (
        ok.sort_values(["demand_mw", "interval_start_utc"], ascending=[False, True]).groupby("date_local").head(1)
    )
    expected["peak_utc"] = peak_rows.set_index("date_local")["interval_start_utc"]
    expected["peak_local"] = peak_rows.set_index("date_local")["local"].dt.tz_localize(None)

    assert list(got.index) == list(expected.index)
    pd.testing.assert_series_equal(got["energy_mwh"], expected["energy_mwh"], check_names=False)
    pd.testing.assert_series_equal(got["peak_demand_mw"], expected["peak_demand_mw"], check_names=False)
    pd.testing.assert_series_equal(got["min_demand_mw"], expected["min_demand_mw"], check_names=False)
    assert list(got["hours_reported"]) == list(expected["hours_reported"])
    assert list(got["imputed_hours"]) == list(expected["imputed_hours"])
    assert list(pd.to_datetime(got["peak_interval_start_utc"])) == list(pd.to_datetime(expected["peak_utc"]))
    assert list(pd.to_datetime(got["peak_interval_start_local"])) == list(expected["peak_local"])
    assert (got["avg_demand_mw"] / got["peak_demand_mw"] - got["load_factor"]).abs().max() < 1e-12

    hours = got["hours_expected"].to_dict()
    assert hours[datetime(2021, 3, 14).date()] == 23
    assert hours[datetime(2021, 11, 7).date()] == 25
    assert hours[datetime(2021, 3, 15).date()] == 24
    assert (got["completeness_pct"] == 100.0 * got["hours_reported"] / got["hours_expected"]).all()
    # Hour 30 of the first window (2021-03-14 12:00 UTC) has no value: 22 of the 23 hours of the spring-forward day.
    assert got.loc[datetime(2021, 3, 14).date(), "hours_reported"] == 22
    assert got.loc[datetime(2021, 3, 15).date(), "completeness_pct"] == 100.0


def test_hourly_profile_mean_and_exact_p95_match_pandas(spark):
    values = [500.0 + ((i * 7919) % 1000) / 3 for i in range(24 * 62)]  # two months of irregular values
    rows = demand_rows("t", "NCENT", datetime(2021, 6, 1, 5), values)
    hourly = with_local_fields(silver_demand(spark, rows), load_regions())
    got = conform(hourly_profile(hourly, "b1"), GOLD_DEMAND_HOURLY_PROFILE).toPandas()

    frame = pd.DataFrame(rows, columns=SILVER_DEMAND_HOURLY.column_names)
    local = pd.to_datetime(frame["interval_start_utc"]).dt.tz_localize("UTC").dt.tz_convert("America/Chicago")
    frame["month"], frame["hour_local"] = local.dt.month, local.dt.hour
    frame["day_type"] = local.dt.dayofweek.map(lambda d: "weekend" if d >= 5 else "weekday")
    expected = (
        frame.groupby(["month", "day_type", "hour_local"])["demand_mw"]
        .agg(mean="mean", p95=lambda s: s.quantile(0.95), n="size")
        .reset_index()
    )
    merged = got.merge(expected, on=["month", "day_type", "hour_local"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(expected)
    assert (merged["mean_demand_mw"] - merged["mean"]).abs().max() < 1e-9
    assert (merged["p95_demand_mw"] - merged["p95"]).abs().max() < 1e-9
    assert (merged["hours_count"] == merged["n"]).all()


def test_sums_and_means_are_the_same_whatever_order_the_rows_are_added_in(spark):
    # As doubles, (0.1 + 0.2) + 0.3 = 0.6000000000000001 and (0.3 + 0.2) + 0.1 = 0.6: a day's energy would depend
    # on the order Spark meets the hours in, and a rebuild of an unchanged day would be rewritten and exported.
    regions = load_regions()
    values = [0.1, 0.2, 0.3]

    def in_order(rows):  # one partition, rows added in the order given
        return with_local_fields(silver_demand(spark, rows).coalesce(1), regions)

    # Three hours of one local day; then the same hour (noon UTC, 06:00 Chicago) of three weekdays of March 2021.
    day = demand_rows("t", "COAST", datetime(2021, 3, 2, 12), values)
    weekdays = [
        row for i, v in enumerate(values) for row in demand_rows("t", "COAST", datetime(2021, 3, 2 + i, 12), [v])
    ]
    for order in (1, -1):
        daily = conform(daily_demand(in_order(day[::order]), "b1"), GOLD_DEMAND_DAILY).collect()
        assert [(r["energy_mwh"], r["avg_demand_mw"]) for r in daily] == [(0.6, 0.2)], order
        profile = conform(hourly_profile(in_order(weekdays[::order]), "b1"), GOLD_DEMAND_HOURLY_PROFILE).collect()
        assert [(r["hour_local"], r["mean_demand_mw"], r["hours_count"]) for r in profile] == [(6, 0.2, 3)], order
        temps = weather_rows("HOUSTON", "COAST", datetime(2021, 3, 2, 12), values)[::order]
        weather = spark.createDataFrame(temps, SILVER_WEATHER_HOURLY.spark_schema()).coalesce(1)
        degree_days = daily_degree_days(with_local_fields(weather, regions), "b1").collect()
        assert [r["mean_temperature_c"] for r in degree_days] == [0.2], order


def test_the_system_peak_hour_does_not_depend_on_the_order_regions_are_added_in(spark):
    # Hour 1: 0.6 + 0.0 + 0.0; hour 2: 0.1 + 0.2 + 0.3, as decimals a tie (the earliest hour is the peak). As doubles
    # hour 2 is 0.6000000000000001 when added 0.1 first and 0.6 when added 0.3 first: the peak hour would flip.
    start = datetime(2021, 8, 2, 15)
    rows = [
        *demand_rows("t", "COAST", start, [0.6, 0.1]),
        *demand_rows("t", "EAST", start, [0.0, 0.2]),
        *demand_rows("t", "NCENT", start, [0.0, 0.3]),
    ]
    regions = load_regions()
    for order in (1, -1):  # one partition, rows added in the order given
        hourly = with_local_fields(silver_demand(spark, rows[::order]).coalesce(1), regions)
        got = conform(coincident_peak(hourly, "b1"), GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK).collect()
        peaks = {(r["system_peak_demand_mw"], r["system_peak_interval_start_utc"]) for r in got}
        assert peaks == {(0.6, start)}, order
        assert {r["region_code"]: r["demand_at_system_peak_mw"] for r in got} == {
            "COAST": 0.6,
            "EAST": 0.0,
            "NCENT": 0.0,
        }


def weather_rows(station: str, region: str, start_utc: datetime, temps: list[float]) -> list[tuple]:
    return [("noaa", station, region, start_utc + timedelta(hours=i), t, "w.csv", i, "b0") for i, t in enumerate(temps)]


def test_degree_days_hand_computed(spark):
    # Local day 2021-01-05 in Chicago time = 06:00 UTC .. 06:00 UTC next day.
    temps = [10.0] * 12 + [20.0] * 12  # mean 15 C = 59 F -> HDD 6, CDD 0
    hot = [30.0] * 24  # 86 F -> CDD 21
    rows = weather_rows("HOUSTON", "COAST", datetime(2021, 1, 5, 6), temps) + weather_rows(
        "HOUSTON", "COAST", datetime(2021, 1, 6, 6), hot
    )
    weather = with_local_fields(spark.createDataFrame(rows, SILVER_WEATHER_HOURLY.spark_schema()), load_regions())
    got = conform(daily_degree_days(weather, "b1"), GOLD_WEATHER_DAILY_DEGREE_DAYS).toPandas().set_index("date_local")
    day1, day2 = got.loc[datetime(2021, 1, 5).date()], got.loc[datetime(2021, 1, 6).date()]
    assert day1["mean_temperature_c"] == pytest.approx(15.0)
    assert (day1["min_temperature_c"], day1["max_temperature_c"], day1["hours_reported"]) == (10.0, 20.0, 24)
    assert day1["heating_degree_days_f"] == pytest.approx(6.0)
    assert day1["cooling_degree_days_f"] == 0.0
    assert day2["cooling_degree_days_f"] == pytest.approx(21.0) and day2["heating_degree_days_f"] == 0.0
    assert len(got) == 2


def test_hourly_weather_joins_the_regions_station_and_keeps_hours_without_weather(spark):
    start = datetime(2021, 7, 1, 0)
    demand = with_local_fields(
        silver_demand(
            spark, demand_rows("t", "COAST", start, [10.0, 11.0, 12.0]) + demand_rows("t", "EAST", start, [5.0])
        ),
        load_regions(),
    )
    weather = spark.createDataFrame(
        weather_rows("HOUSTON", "COAST", start, [30.0, 31.0]) + weather_rows("DFW", "NCENT", start, [25.0]),
        SILVER_WEATHER_HOURLY.spark_schema(),
    )
    got = conform(hourly_weather(demand, weather, "b1"), GOLD_DEMAND_HOURLY_WEATHER).orderBy(
        "region_code", "interval_start_utc"
    )
    rows = [(r.region_code, r.hour_local, r.station_id, r.temperature_c) for r in got.collect()]
    # 2021-07-01 00:00 UTC is 19:00 CDT on June 30.
    assert rows == [
        ("COAST", 19, "HOUSTON", 30.0),
        ("COAST", 20, "HOUSTON", 31.0),
        ("COAST", 21, "HOUSTON", None),
        ("EAST", 19, None, None),
    ]


def test_coincident_peak_hand_computed(spark):
    start = datetime(2021, 8, 2, 15)  # 10:00 CDT
    rows = (
        demand_rows("t", "COAST", start, [100.0, 120.0, 90.0, 80.0])
        + demand_rows("t", "EAST", start, [50.0, 20.0, 60.0, None])
        + demand_rows("t", "ERCOT", start, [999.0, 999.0, 999.0, 999.0])  # aggregate: never part of the system
    )
    hourly = with_local_fields(silver_demand(spark, rows), load_regions())
    got = (
        conform(coincident_peak(hourly, "b1"), GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK).toPandas().set_index("region_code")
    )
    # System hours: 150, 140, 150 (hour 4 lacks EAST). Tie 150 -> the earliest hour (15:00 UTC).
    assert sorted(got.index) == ["COAST", "EAST"]
    assert (got["system_peak_demand_mw"] == 150.0).all()
    assert (pd.to_datetime(got["system_peak_interval_start_utc"]) == pd.Timestamp(start)).all()
    assert got.loc["COAST", "demand_at_system_peak_mw"] == 100.0 and got.loc["COAST", "region_peak_demand_mw"] == 120.0
    assert got.loc["COAST", "coincidence_factor"] == pytest.approx(100.0 / 120.0)
    assert got.loc["EAST", "region_peak_demand_mw"] == 60.0
    assert pd.Timestamp(got.loc["EAST", "region_peak_interval_start_utc"]) == pd.Timestamp(start + timedelta(hours=2))
    assert got.loc["EAST", "coincidence_factor"] == pytest.approx(50.0 / 60.0)
    assert str(got.loc["EAST", "month_start_date"]) == "2021-08-01"


def test_unknown_region_fails_the_query_naming_it(spark):
    # Among known regions' rows; the check rides in the time zone column, so it must survive to a Gold table's rows.
    rows = demand_rows("t", "COAST", datetime(2021, 1, 1), [1.0, 2.0])
    rows += demand_rows("t", "ATLANTIS", datetime(2021, 1, 1), [1.0])
    hourly = with_local_fields(silver_demand(spark, rows), load_regions())
    with pytest.raises(PySparkException, match="region ATLANTIS is not in databricks_jobs/reference/regions.csv"):
        daily_demand(hourly, "b1").collect()
    known = hourly.where(F.col("region_code") == "COAST")
    assert [r.energy_mwh for r in daily_demand(known, "b1").collect()] == [3.0]


def test_conform_names_missing_columns(spark):
    with pytest.raises(ValueError, match="gold_demand__daily.*energy_mwh"):
        conform(spark.range(1).withColumn("source_id", F.lit("x")), GOLD_DEMAND_DAILY)
