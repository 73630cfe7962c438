"""The same app through fakesnow: AppTest on a Snowpark session connected to the seeded local warehouse process.

Local testing (test_app_pages.py) and the local warehouse execute the app's DataFrame operations in two different
engines (pandas emulation vs SQL transpiled to DuckDB); both must give the figures pandas gives on the seeded rows.
"""

from __future__ import annotations

import pytest
import streamlit as st
from apptest_helpers import expected_reliability, last_days, metric, open_page, started_app

ZONES = ["COAST", "NCENT", "SCENT"]


@pytest.fixture(scope="module")
def warehouse_session(seeded_local_warehouse):
    from local_platform.warehouse import control

    st.cache_data.clear()  # cached results of the local-testing engine must not answer here
    with control.session(seeded_local_warehouse, schema="REPORTING") as session:
        yield session
    st.cache_data.clear()


def test_overview_figures_through_the_local_warehouse(warehouse_session, monkeypatch, local_warehouse_views):
    app = started_app(warehouse_session, monkeypatch)
    app.selectbox(key="window_pick").set_value("Last 30 days of data").run()
    assert not app.exception
    daily = local_warehouse_views["DAILY_DEMAND"]
    zones = daily[(daily["SOURCE_ID"] == "ercot_native_load") & daily["REGION_CODE"].isin(ZONES)]
    end = zones["DATE_LOCAL"].max()
    window = last_days(zones, "DATE_LOCAL", 30, end)
    assert metric(app, "Energy") == pytest.approx(window["ENERGY_MWH"].sum(), abs=0.5)
    assert metric(app, "Average load factor") == pytest.approx(window["LOAD_FACTOR"].mean(), abs=0.0005)

    hourly = local_warehouse_views["HOURLY_DEMAND"]
    hourly = last_days(hourly[(hourly["SOURCE_ID"] == "ercot_native_load") & hourly["REGION_CODE"].isin(ZONES)],
                       "DATE_LOCAL", 30, end)  # fmt: skip
    assert metric(app, "Peak demand") == pytest.approx(
        hourly.groupby("INTERVAL_START_UTC")["DEMAND_MW"].sum().max(), abs=0.5
    )

    start = window["DATE_LOCAL"].min()
    reliability = expected_reliability(local_warehouse_views["RELIABILITY_DAILY"], ZONES, start, end)
    for label in ("with", "without"):
        saidi, saifi, _ = reliability[label]
        assert metric(app, f"SAIDI {label} Major Event Days") == pytest.approx(saidi, abs=0.05)
        assert metric(app, f"SAIFI {label} Major Event Days") == pytest.approx(saifi, abs=0.0005)


def test_every_page_through_the_local_warehouse(warehouse_session, monkeypatch):
    app = started_app(warehouse_session, monkeypatch)
    for page in app.radio(key="page").options:
        open_page(app, page)
        assert not app.error, page
