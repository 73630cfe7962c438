"""Energy demand & reliability: the Streamlit-in-Snowflake app for business users.

Runs inside Snowflake on the session `get_active_session()` returns; locally `energy-platform app` creates a
Snowpark session on the local warehouse first, and the tests give it a Snowpark local-testing session.
Reads only the REPORTING views.
"""

from __future__ import annotations

import streamlit as st
from energy_app import filters, queries
from energy_app.tabs import demand, freshness, load_factor, load_shapes, overview, reliability

PAGES = {
    "Overview": overview,
    "Demand": demand,
    "Load shapes": load_shapes,
    "Load factor": load_factor,
    "Outages & reliability": reliability,
    "Data freshness & quality": freshness,
}

# page_title / page_icon are not supported in Streamlit in Snowflake: only the layout is set.
st.set_page_config(layout="wide")
st.title("Energy demand & reliability")

selection = filters.sidebar()
if selection is None:
    st.warning("The warehouse has no demand data yet: load a Gold export first.")
    st.stop()

regions_text = ", ".join(selection.regions) if selection.regions else "none"
st.caption(
    f"Source **{selection.source_id}** · regions **{regions_text}** · {selection.window.label()} · "
    f"Major Event Days {'included' if selection.include_major_event_days else 'excluded'} · dates and hours are "
    "local to each region"
)
if not selection.regions:
    st.info("Select at least one region in the sidebar to see figures.")
    st.stop()
overlap = filters.double_counted(selection.regions, queries.regions_for_source(selection.source_id))
if overlap:
    st.warning(
        f"{', '.join(overlap)} is a system total that already contains other selected regions: figures that add "
        "regions together (energy, peak) count that demand twice. Select either the total or its zones."
    )

# One page at a time (not st.tabs, which would run every tab's queries on each interaction).
page = st.radio("Page", list(PAGES), horizontal=True, key="page", label_visibility="collapsed")
st.divider()
st.caption(PAGES[page].INTRO)
PAGES[page].render(selection)
