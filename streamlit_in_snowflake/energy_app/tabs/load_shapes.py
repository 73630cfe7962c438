"""Load shapes: typical hourly profiles by month and day type, and an hour-by-day heatmap of the window."""

from __future__ import annotations

import calendar

import pandas as pd
import streamlit as st

from energy_app import charts, queries
from energy_app import formatting as fmt
from energy_app.filters import Selection, Window

INTRO = "When in the day power is drawn: typical hourly profiles and every hour of the window."


def months_in(window: Window) -> list[int]:
    """Calendar months (1..12) that the window touches, in calendar order."""
    months = pd.date_range(window.start.replace(day=1), window.end, freq="MS").month
    return sorted(set(months))


def render(selection: Selection) -> None:
    window = selection.window
    months = months_in(window)
    st.markdown("**Typical hourly profile**")
    month = st.selectbox(
        "Month",
        months,
        index=months.index(window.end.month) if window.end.month in months else 0,
        format_func=lambda m: calendar.month_name[m],
        key="profile_month",
    )
    shape = queries.load_shape(selection.source_id, selection.regions, (month,))
    if shape.empty:
        st.info(f"No hourly profile for the selected regions in {calendar.month_name[month]}.")
    else:
        st.caption(
            "Average and 95th-percentile demand for each local hour, over every day of that month the source "
            "has (all years), split into weekdays and weekends."
        )
        st.altair_chart(charts.load_profile(shape), width="content")
        fmt.table(
            shape[["REGION_CODE", "MONTH", "DAY_TYPE", "HOUR_LOCAL", "MEAN_DEMAND_MW", "P95_DEMAND_MW", "HOURS_COUNT"]],
            "hourly profile",
            {
                "MEAN_DEMAND_MW": st.column_config.NumberColumn("Average (MW)", format="%.0f"),
                "P95_DEMAND_MW": st.column_config.NumberColumn("95th percentile (MW)", format="%.0f"),
            },
            height=240,
        )

    st.markdown("**Hour × day heatmap of the window**")
    grid = queries.hourly_heatmap(selection.source_id, selection.regions, window.start, window.end)
    if grid.empty:
        st.info("No hourly demand for the selected regions in this window.")
        return
    st.caption("Demand of the selected regions added together, per local hour of each local day.")
    st.altair_chart(charts.heatmap(grid), width="stretch")
    fmt.table(
        grid,
        "hourly heatmap",
        {"MEAN_DEMAND_MW": st.column_config.NumberColumn("Demand (MW)", format="%.0f")},
        height=240,
    )
