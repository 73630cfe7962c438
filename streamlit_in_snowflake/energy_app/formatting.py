"""Numbers with units, and tables that can always be downloaded as CSV."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st


def number(value: float | None, unit: str = "", decimals: int = 0) -> str:
    """'1,234.5 MWh'; an em dash when there is no value."""
    if value is None or pd.isna(value):
        return "—"
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip()


def delta(change: float | None) -> str | None:
    """A change in percent for st.metric; none hides the delta."""
    return None if change is None else f"{change:+.1f}% vs previous window"


UNIT_SUFFIXES = {
    "_MWH": "MWh",
    "_MW": "MW",
    "_MINUTES": "min",
    "_PCT": "%",
    "_C": "°C",
    "_F": "°F·day",
    "_UTC": "UTC",
    "_LOCAL": "local",
}


LABELS = {
    "REGION_CODE": "Region",
    "SOURCE_ID": "Source",
    "CUSTOMER_MINUTES": "Customer-minutes interrupted",
    "SAIDI_MINUTES": "SAIDI (min)",
    "SAIFI": "SAIFI",
}


def column_label(name: str) -> str:
    """A view column as a header: 'PEAK_DEMAND_MW' -> 'Peak demand (MW)', 'DATE_LOCAL' -> 'Date (local)'."""
    if name in LABELS:
        return LABELS[name]
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{_words(name[: -len(suffix)])} ({unit})"
    return _words(name)


def _words(name: str) -> str:
    return re.sub(r"\bid\b", "ID", name.replace("_", " ").lower().capitalize())


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): `=HYPERLINK(...)` in an
# outage's cause would become a link when a business user opens the download.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (shown as text, not run)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV for every download: text cells neutralised, numbers (a negative MW too) left as numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralised)
    # CRLF line ends (RFC 4180) also make the writer quote a cell holding a lone CR, which would otherwise split a row.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def table(frame: pd.DataFrame, name: str, column_config: dict | None = None, height: int = 320) -> None:
    """Show a table with readable, unit-bearing headers and a 'Download CSV' button (the CSV keeps the view's
    column names, for analysts who join it back to the warehouse)."""
    config: dict = {column: column_label(column) for column in frame.columns}
    for column, settings in (column_config or {}).items():
        # A column config given without a label keeps the generated, unit-bearing one.
        config[column] = {**settings, "label": settings.get("label") or config.get(column)}
    st.dataframe(frame, hide_index=True, column_config=config, height=height if len(frame) > 10 else "auto")
    st.download_button(
        f"Download {name} (CSV)",
        csv_bytes(frame),
        file_name=f"{name.lower().replace(' ', '_')}.csv",
        mime="text/csv",
        key=f"download__{name}",
        on_click="ignore",
    )
