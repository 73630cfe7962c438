"""Outages and reliability: monthly SAIDI / SAIFI with Major Event Days marked, the MED threshold in force,
the largest events and the causes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from energy_app import charts, queries
from energy_app import formatting as fmt
from energy_app.filters import Selection

INTRO = "Customer interruptions and the IEEE 1366 reliability indices of the selected regions."


def thresholds_in_force(daily: pd.DataFrame) -> pd.DataFrame:
    """Per region, the MED threshold on the last day of the window that has one."""
    known = daily.dropna(subset=["MED_THRESHOLD_SAIDI_MINUTES"]).sort_values("DATE_LOCAL")
    latest = known.groupby("REGION_CODE", as_index=False).last()
    return latest[
        ["REGION_CODE", "DATE_LOCAL", "MED_THRESHOLD_SAIDI_MINUTES", "IS_MED_THRESHOLD_PROVISIONAL", "MED_HISTORY_DAYS"]
    ]


def indices(daily: pd.DataFrame, selection: Selection) -> None:
    """Monthly SAIDI / SAIFI with MED months marked, daily SAIDI against the MED threshold, the threshold table."""
    window, regions, include_med = selection.window, selection.regions, selection.include_major_event_days
    label = "with" if include_med else "without"
    med = "W" if include_med else "WO"
    monthly = queries.reliability_monthly(regions, window.start, window.end)
    saidi, saifi = st.columns(2)
    saidi_column = f"SAIDI_{med}_MAJOR_EVENT_DAYS_MINUTES"
    with saidi:
        st.markdown(f"**Monthly SAIDI {label} Major Event Days**")
        st.altair_chart(
            charts.monthly_reliability(monthly, saidi_column, "SAIDI (minutes per customer)"), width="stretch"
        )
    with saifi:
        st.markdown(f"**Monthly SAIFI {label} Major Event Days**")
        st.altair_chart(
            charts.monthly_reliability(monthly, f"SAIFI_{med}_MAJOR_EVENT_DAYS", "SAIFI (interruptions per customer)"),
            width="stretch",
        )
    st.caption("▲ MED marks months that contain Major Event Days (IEEE 1366 2.5-beta method).")

    st.markdown("**Daily SAIDI and the Major Event Day threshold**")
    st.altair_chart(charts.daily_saidi(daily), width="stretch")
    thresholds = thresholds_in_force(daily)
    if thresholds.empty:
        st.caption("No MED threshold in force yet: there is no earlier history to fit it on.")
    else:
        st.caption(
            "Threshold in force T_MED = exp(α + 2.5·β) of the log daily SAIDI of up to five earlier years; a day "
            "above it is a Major Event Day (red). Provisional when fitted on less than five years."
        )
        fmt.table(
            thresholds,
            "med thresholds",
            {
                "DATE_LOCAL": st.column_config.DateColumn("In force on"),
                "MED_THRESHOLD_SAIDI_MINUTES": st.column_config.NumberColumn("Threshold (SAIDI min)", format="%.2f"),
                "IS_MED_THRESHOLD_PROVISIONAL": st.column_config.CheckboxColumn("Provisional"),
                "MED_HISTORY_DAYS": st.column_config.NumberColumn("History (days)"),
            },
        )


def render(selection: Selection) -> None:
    window, regions, include_med = selection.window, selection.regions, selection.include_major_event_days
    daily = queries.reliability_daily(regions, window.start, window.end)
    if daily.empty:
        st.info(
            "No outage data for the selected regions in this window. Outage data exists for the synthetic "
            "utility's districts and for the NERC regions of the DOE OE-417 reports (listed as 'outages only')."
        )
        return
    missing = sorted(set(regions) - set(daily["REGION_CODE"]))
    if missing:
        st.caption(f"No outage data for: {', '.join(missing)}.")

    uncounted = sorted(set(daily.loc[daily["SAIDI_MINUTES"].isna(), "REGION_CODE"]))
    if uncounted:
        st.caption(f"No customers-served count (so no SAIDI / SAIFI) for: {', '.join(uncounted)}.")
    if daily["SAIDI_MINUTES"].notna().any():
        indices(daily.dropna(subset=["SAIDI_MINUTES"]), selection)
    else:
        st.info(
            "SAIDI and SAIFI need a customers-served count, which the selected regions lack: only their events "
            "are shown below."
        )
    label = "with" if include_med else "without"

    st.markdown(f"**Largest outage events** ({label} Major Event Days, by customer-minutes interrupted)")
    events = queries.largest_events(regions, window.start, window.end, include_med)
    if events.empty:
        st.info("No outage events in this window for the selected regions.")
        return
    fmt.table(
        events,
        "largest outage events",
        {
            "STARTED_AT_LOCAL": st.column_config.DatetimeColumn("Started (local)", format="YYYY-MM-DD HH:mm"),
            "DURATION_MINUTES": st.column_config.NumberColumn("Duration (min)", format="%.0f"),
            "CUSTOMERS_AFFECTED": st.column_config.NumberColumn("Customers affected", format="%d"),
            "CUSTOMER_MINUTES": st.column_config.NumberColumn("Customer-minutes", format="%.0f"),
            "IS_MAJOR_EVENT_DAY": st.column_config.CheckboxColumn("On a Major Event Day"),
            "IS_OPEN": st.column_config.CheckboxColumn("Still open"),
        },
        height=320,
    )
    st.markdown("**Causes**")
    by_cause = queries.events_by_cause(regions, window.start, window.end, include_med)
    st.altair_chart(charts.causes(by_cause), width="stretch")
    fmt.table(by_cause, "outage causes", {"CUSTOMER_MINUTES": st.column_config.NumberColumn(format="%.0f")})
