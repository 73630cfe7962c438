"""Data freshness and quality: last change and last check, Gold batch, incomplete days, quarantine, accounting."""

from __future__ import annotations

import streamlit as st

from energy_app import charts, queries
from energy_app import formatting as fmt
from energy_app.filters import Selection

INTRO = "How fresh and how complete the data behind these pages is."


def render(selection: Selection) -> None:
    freshness = queries.data_freshness()
    last_change, last_check, batch, incomplete = st.columns([2, 2, 3, 2])
    if freshness.empty:
        st.info("No load has been recorded in the warehouse yet.")
    else:
        latest = freshness.sort_values("LAST_CHANGED_AT_UTC").iloc[-1]
        last_change.metric(
            "Last change (UTC)",
            f"{latest['LAST_CHANGED_AT_UTC']:%Y-%m-%d %H:%M}",
            border=True,
            help="When a load last changed the data: a new Gold batch was loaded.",
        )
        last_check.metric(
            "Last checked (UTC)",
            f"{freshness['LAST_CHECKED_AT_UTC'].max():%Y-%m-%d %H:%M}",
            border=True,
            help="When a load last looked for a new batch (it skips a batch that is loaded already).",
        )
        with batch.container(border=True):
            st.caption("Gold batch id (of the latest change)")
            st.code(str(latest["BATCH_ID"]), language=None)
    window = selection.window
    days = queries.incomplete_days(selection.source_id, selection.regions, window.start, window.end)
    incomplete.metric(
        "Region-days with missing hours",
        fmt.number(len(days)),
        border=True,
        help="Local days of the selection where fewer hours were reported than the day has (23, 24 or 25).",
    )
    if not freshness.empty:
        st.markdown("**Latest load of each curated table**")
        fmt.table(freshness, "data freshness", {"ROW_COUNT": st.column_config.NumberColumn("Rows", format="%d")})

    st.markdown(f"**Days with incomplete hours** ({selection.source_id}, selected regions, window)")
    if days.empty:
        st.success("Every local day in the window has all its hours.")
    else:
        fmt.table(days, "incomplete days", height=240)

    st.markdown("**Quarantined rows per source**")
    quarantine = queries.quarantine_by_source()
    if quarantine.empty:
        st.success("No rows were quarantined.")
    else:
        st.caption("Rows the pipeline could not use, by reason; each is kept in the Silver quarantine table.")
        st.altair_chart(charts.quarantine(quarantine), width="stretch")
        fmt.table(quarantine, "quarantine summary")

    st.markdown("**Row accounting per ingested file** (rows in = kept + quarantined + exact duplicates)")
    accounting = queries.file_accounting()
    if accounting.empty:
        st.info("No file accounting loaded yet.")
    else:
        fmt.table(accounting, "file accounting", height=280)
