"""Helpers shared by the AppTest modules: start the app on a given session, read its metrics, expected figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import snowflake.snowpark.session
from streamlit.testing.v1 import AppTest

APP_SCRIPT = Path(__file__).resolve().parents[2] / "streamlit_in_snowflake" / "streamlit_app.py"


def started_app(session, monkeypatch) -> AppTest:
    """The app after its first run on `session`."""
    # get_active_session() refuses when several sessions are open (other tests of the run may hold one): while the
    # app runs here, `session` is the only active one.
    monkeypatch.setattr(snowflake.snowpark.session, "_active_sessions", {session})
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> float | None:
    """The number shown by the metric whose label is `label` ('1,234.5 MWh' -> 1234.5; '—' -> None)."""
    matches = [m for m in at.metric if m.label == label]
    assert len(matches) == 1, f"{label!r} not in {[m.label for m in at.metric]}"
    text = matches[0].value.split()[0].replace(",", "")
    return None if text == "—" else float(text)


def delta_pct(at: AppTest, label: str) -> float | None:
    delta = next(m.delta for m in at.metric if m.label == label)
    return None if not delta else float(delta.split("%")[0])


def open_page(at: AppTest, page: str) -> None:
    at.radio(key="page").set_value(page).run()
    assert not at.exception, (page, at.exception)


def last_days(frame: pd.DataFrame, column: str, days: int, end: dt.date) -> pd.DataFrame:
    start = end - dt.timedelta(days=days - 1)
    return frame[(frame[column] >= start) & (frame[column] <= end)]


def expected_reliability(daily: pd.DataFrame, regions: list[str], start: dt.date, end: dt.date) -> dict:
    """Window SAIDI/SAIFI per region = sum of daily values (without MED: over non-MED days); combined by customers."""
    rows = daily[daily["REGION_CODE"].isin(regions) & (daily["DATE_LOCAL"] >= start) & (daily["DATE_LOCAL"] <= end)]
    rows = rows.dropna(subset=["CUSTOMERS_SERVED"])
    result = {}
    for label, keep in (("with", rows.index == rows.index), ("without", ~rows["IS_MAJOR_EVENT_DAY"].to_numpy())):
        kept = rows[keep]
        per_region = kept.groupby("REGION_CODE")[["SAIDI_MINUTES", "SAIFI"]].sum()
        served = rows.groupby("REGION_CODE")["CUSTOMERS_SERVED"].mean().astype(float)
        per_region = per_region.reindex(served.index, fill_value=0.0)
        saidi = float((per_region["SAIDI_MINUTES"] * served).sum() / served.sum())
        saifi = float((per_region["SAIFI"] * served).sum() / served.sum())
        result[label] = (saidi, saifi, saidi / saifi)
    return result
