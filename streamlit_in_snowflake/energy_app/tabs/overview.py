"""Overview: the selection's headline figures, each against the previous window of the same length."""

from __future__ import annotations

import streamlit as st

from energy_app import formatting as fmt
from energy_app import metrics, queries
from energy_app.filters import Selection, Window

INTRO = "Headline figures of the selection, each compared with the window of the same length just before it."

RELIABILITY_HELP = (
    "Window SAIDI = sum of the daily SAIDI (customer-minutes interrupted per customer served, sustained "
    "interruptions, counted on the local day they start) over the window's days; 'without MED' sums only the days "
    "not flagged as Major Event Days. SAIFI likewise with interruptions per customer. CAIDI = SAIDI / SAIFI "
    "(minutes per interruption). With several regions, each region's figure is weighted by its customers served."
)


def _figures(selection: Selection, window: Window) -> dict:
    regions = selection.regions
    args = (selection.source_id, regions, window.start, window.end)
    per_region = queries.reliability_by_region(regions, window.start, window.end)
    return {
        "demand": queries.demand_totals(*args),
        "peak": queries.selection_peak(*args) if queries.demand_totals(*args)["REGION_DAYS"] else None,
        "reliability": metrics.window_reliability(per_region),
        "reliability_regions": per_region,
        "events": queries.event_totals(regions, window.start, window.end, selection.include_major_event_days),
    }


def peak_time_text(peak: dict, zones: list[str]) -> str:
    """When the peak hour began: local time when the selected regions share one time zone, else UTC."""
    if len(zones) == 1:
        return f"at {peak['INTERVAL_START_LOCAL']:%a %d %b %Y %H:%M} {zones[0]} (hour beginning)"
    return f"at {peak['INTERVAL_START_UTC']:%a %d %b %Y %H:%M} UTC (hour beginning; regions in several time zones)"


def _metric(column, label: str, value: float | None, previous: float | None, unit: str, decimals: int, **kw) -> None:
    column.metric(
        label,
        fmt.number(value, unit, decimals),
        fmt.delta(metrics.change_pct(value, previous)),
        border=True,
        **kw,
    )


def render(selection: Selection) -> None:
    now = _figures(selection, selection.window)
    before = _figures(selection, selection.window.previous())
    st.caption(f"Changes compare with the previous {selection.window.days} days: {selection.window.previous().label()}")

    st.subheader("Demand")
    if not now["demand"]["REGION_DAYS"]:
        st.info("No demand data for the selected regions in this window.")
    else:
        energy, peak, load_factor = st.columns(3)
        _metric(energy, "Energy", now["demand"]["ENERGY_MWH"], before["demand"]["ENERGY_MWH"], "MWh", 0)
        peak_mw = now["peak"]["DEMAND_MW"] if now["peak"] else None
        before_peak = before["peak"]["DEMAND_MW"] if before["peak"] else None
        _metric(
            peak,
            "Peak demand",
            peak_mw,
            before_peak,
            "MW",
            0,
            help="Highest hourly demand of the selected regions added together (their coincident peak).",
        )
        if now["peak"]:
            peak.caption(peak_time_text(now["peak"], queries.time_zones(selection.regions)))
        _metric(
            load_factor,
            "Average load factor",
            now["demand"]["AVG_LOAD_FACTOR"],
            before["demand"]["AVG_LOAD_FACTOR"],
            "",
            3,
            help="Mean of the daily load factors (daily average demand / daily peak demand) of the selected "
            "region-days.",
        )

    st.subheader("Reliability", help=RELIABILITY_HELP)
    per_region = now["reliability_regions"]
    uncounted = sorted(per_region.loc[per_region["CUSTOMERS_SERVED"].isna(), "REGION_CODE"])
    if per_region.empty:
        st.info("No outage data for the selected regions in this window: reliability indices are not available.")
    elif now["reliability"]["SAIDI_W_MED"] is None:
        st.info(
            f"No customers-served count for {', '.join(uncounted)}: SAIDI, SAIFI and CAIDI need one, so only the "
            "event counts below are shown."
        )
    else:
        if uncounted:
            st.caption(f"Left out of the indices (no customers-served count): {', '.join(uncounted)}.")
        for suffix, label in (("_W_MED", "with Major Event Days"), ("_WO_MED", "without Major Event Days")):
            saidi, saifi, caidi = st.columns(3)
            rel, prev = now["reliability"], before["reliability"]
            kw = {"delta_color": "inverse", "help": RELIABILITY_HELP}
            _metric(saidi, f"SAIDI {label}", rel[f"SAIDI{suffix}"], prev[f"SAIDI{suffix}"], "min", 1, **kw)
            _metric(saifi, f"SAIFI {label}", rel[f"SAIFI{suffix}"], prev[f"SAIFI{suffix}"], "int./cust.", 3, **kw)
            _metric(caidi, f"CAIDI {label}", rel[f"CAIDI{suffix}"], prev[f"CAIDI{suffix}"], "min", 1, **kw)

    med_note = "including" if selection.include_major_event_days else "excluding"
    events, customers = st.columns(2)
    kw = {"delta_color": "inverse"}
    _metric(events, f"Outage events ({med_note} MED)", now["events"]["EVENTS"], before["events"]["EVENTS"], "", 0, **kw)
    _metric(
        customers,
        f"Customers affected ({med_note} MED)",
        now["events"]["CUSTOMERS_AFFECTED"],
        before["events"]["CUSTOMERS_AFFECTED"],
        "customers",
        0,
        help="Sum over the events of the customers each one interrupted (a customer hit twice counts twice).",
        **kw,
    )
    if now["events"]["UNKNOWN_CUSTOMERS"]:
        unknown = now["events"]["UNKNOWN_CUSTOMERS"]
        customers.caption(f"{unknown:,} events with an unknown customer count are not summed.")
