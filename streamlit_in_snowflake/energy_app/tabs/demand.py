"""Demand: daily energy and peaks over time; demand against temperature; heating and cooling degree days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from energy_app import charts, metrics, queries
from energy_app import formatting as fmt
from energy_app.filters import Selection

INTRO = "How much energy the selected regions used each day, their daily peaks, and how demand follows the weather."


def temperature_fit(points: pd.DataFrame) -> pd.DataFrame:
    """Per region, the least-squares quadratic of daily peak demand on daily mean temperature, sampled for drawing."""
    lines = []
    for region, group in points.groupby("REGION_CODE"):
        coefficients = metrics.fitted_line(group["MEAN_TEMPERATURE_C"], group["PEAK_DEMAND_MW"])
        if coefficients is None:
            continue
        xs = np.linspace(group["MEAN_TEMPERATURE_C"].min(), group["MEAN_TEMPERATURE_C"].max(), 50)
        fitted = np.polyval(coefficients, xs)
        lines.append(pd.DataFrame({"REGION_CODE": region, "MEAN_TEMPERATURE_C": xs, "PEAK_DEMAND_MW": fitted}))
    return pd.concat(lines) if lines else pd.DataFrame(columns=["REGION_CODE", "MEAN_TEMPERATURE_C", "PEAK_DEMAND_MW"])


def monthly_degree_days(daily: pd.DataFrame) -> pd.DataFrame:
    """Monthly HDD and CDD, averaged over the selected regions that have a weather station."""
    weather = daily.dropna(subset=["HEATING_DEGREE_DAYS_F", "COOLING_DEGREE_DAYS_F"]).copy()
    weather["MONTH"] = pd.to_datetime(weather["DATE_LOCAL"]).dt.to_period("M").dt.to_timestamp()
    per_region = weather.groupby(["REGION_CODE", "MONTH"], as_index=False)[
        ["HEATING_DEGREE_DAYS_F", "COOLING_DEGREE_DAYS_F"]
    ].sum()
    monthly = per_region.groupby("MONTH", as_index=False)[["HEATING_DEGREE_DAYS_F", "COOLING_DEGREE_DAYS_F"]].mean()
    long = monthly.melt(id_vars="MONTH", var_name="KIND", value_name="DEGREE_DAYS_F")
    kinds = {"HEATING_DEGREE_DAYS_F": "Heating (HDD)", "COOLING_DEGREE_DAYS_F": "Cooling (CDD)"}
    long["KIND"] = long["KIND"].map(kinds)
    long["REGION_CODE"] = "selection"
    return long


def render(selection: Selection) -> None:
    window = selection.window
    daily = queries.daily_demand(selection.source_id, selection.regions, window.start, window.end)
    if daily.empty:
        st.info("No demand data for the selected regions in this window.")
        return

    left, right = st.columns(2)
    with left:
        st.markdown("**Daily energy**")
        st.altair_chart(charts.daily_lines(daily, "ENERGY_MWH", "Energy (MWh per day)"), width="stretch")
    with right:
        st.markdown("**Daily peak demand**")
        st.altair_chart(charts.daily_lines(daily, "PEAK_DEMAND_MW", "Peak demand (MW)"), width="stretch")

    st.markdown("**Demand against temperature**")
    points = daily.dropna(subset=["MEAN_TEMPERATURE_C", "PEAK_DEMAND_MW"])
    if points.empty:
        st.info(
            "No temperature for the selected regions in this window: only regions with a mapped weather station "
            "have one (for ERCOT: COAST – Houston, NCENT – Dallas-Fort Worth, SCENT – Austin)."
        )
    else:
        st.caption(
            "Each point is one region-day; the line is a least-squares quadratic fit per region "
            "(demand rises both for heating in the cold and for cooling in the heat)."
        )
        st.altair_chart(charts.temperature_scatter(points, temperature_fit(points)), width="stretch")
        st.markdown("**Heating and cooling degree days per month**")
        st.caption(
            "Degree days base 65 °F: HDD = max(0, 65 − daily mean °F), CDD = max(0, daily mean °F − 65), "
            "summed per month, averaged over the selected regions that have a weather station."
        )
        st.altair_chart(charts.degree_days(monthly_degree_days(points)), width="stretch")

    st.markdown("**Daily demand table**")
    columns = [
        "REGION_CODE", "DATE_LOCAL", "ENERGY_MWH", "PEAK_DEMAND_MW", "PEAK_INTERVAL_START_LOCAL", "MIN_DEMAND_MW",
        "AVG_DEMAND_MW", "LOAD_FACTOR", "HOURS_REPORTED", "HOURS_EXPECTED", "MEAN_TEMPERATURE_C",
        "HEATING_DEGREE_DAYS_F", "COOLING_DEGREE_DAYS_F",
    ]  # fmt: skip
    config = {
        "ENERGY_MWH": st.column_config.NumberColumn("Energy (MWh)", format="%.0f"),
        "PEAK_DEMAND_MW": st.column_config.NumberColumn("Peak (MW)", format="%.0f"),
        "PEAK_INTERVAL_START_LOCAL": st.column_config.DatetimeColumn("Peak at (local)", format="YYYY-MM-DD HH:mm"),
        "MIN_DEMAND_MW": st.column_config.NumberColumn("Min (MW)", format="%.0f"),
        "AVG_DEMAND_MW": st.column_config.NumberColumn("Average (MW)", format="%.0f"),
        "LOAD_FACTOR": st.column_config.NumberColumn("Load factor", format="%.3f"),
        "MEAN_TEMPERATURE_C": st.column_config.NumberColumn("Mean temp. (°C)", format="%.1f"),
        "HEATING_DEGREE_DAYS_F": st.column_config.NumberColumn("HDD (°F·day)", format="%.1f"),
        "COOLING_DEGREE_DAYS_F": st.column_config.NumberColumn("CDD (°F·day)", format="%.1f"),
    }
    fmt.table(daily[columns], "daily demand", config, height=320)
