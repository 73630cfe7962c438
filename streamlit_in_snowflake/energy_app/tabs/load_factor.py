"""Load factor by day, week and month, per region, with its definition beside the chart."""

from __future__ import annotations

import streamlit as st

from energy_app import charts, queries, views
from energy_app import formatting as fmt
from energy_app.filters import Selection

INTRO = "How evenly power is drawn over a day, a week or a month (1.0 = perfectly flat)."

DEFINITION = """
**Load factor** = average demand ÷ peak demand over the same period
= energy (MWh) ÷ (peak demand (MW) × hours reported).

It says how evenly power is drawn: 1.0 would be a flat load. Whole systems
typically run at 0.5–0.7; residential feeders at 0.2–0.4.

- **Day**: over the local calendar day (23 or 25 hours on DST change days).
- **Week**: Monday to Sunday, local dates; shown at the Monday.
- **Month**: local calendar month; shown at its first day.

Weekly and monthly figures use the period's own peak, so they are lower than the average of the daily ones.
"""

PERIODS = {"Day": None, "Week": views.LOAD_FACTOR_WEEKLY, "Month": views.LOAD_FACTOR_MONTHLY}


def render(selection: Selection) -> None:
    window = selection.window
    period = st.radio("Period", list(PERIODS), horizontal=True, key="load_factor_period")
    if PERIODS[period] is None:
        frame = queries.daily_demand(selection.source_id, selection.regions, window.start, window.end)
        date_column = "DATE_LOCAL"
    else:
        frame = queries.load_factor_periods(
            PERIODS[period], selection.source_id, selection.regions, window.start, window.end
        )
        date_column = "PERIOD_START_DATE"
    chart, definition = st.columns([3, 1])
    with definition:
        st.markdown(DEFINITION)
    with chart:
        if frame.empty:
            st.info(f"No {period.lower()}ly load factor for the selected regions in this window.")
            return
        st.altair_chart(charts.load_factor(frame, date_column, period), width="stretch")
    columns = [
        "REGION_CODE", date_column, "ENERGY_MWH", "PEAK_DEMAND_MW", "HOURS_REPORTED", "AVG_DEMAND_MW", "LOAD_FACTOR"
    ]  # fmt: skip
    fmt.table(
        frame[columns],
        f"load factor by {period.lower()}",
        {
            "ENERGY_MWH": st.column_config.NumberColumn("Energy (MWh)", format="%.0f"),
            "PEAK_DEMAND_MW": st.column_config.NumberColumn("Peak (MW)", format="%.0f"),
            "AVG_DEMAND_MW": st.column_config.NumberColumn("Average (MW)", format="%.0f"),
            "LOAD_FACTOR": st.column_config.NumberColumn("Load factor", format="%.3f"),
        },
        height=280,
    )
