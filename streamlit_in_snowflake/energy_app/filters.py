"""The filters every tab honours: demand source, regions, date window (with quick picks) and Major Event Days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from energy_app import queries

LAST_N_DAYS = {"Last 7 days of data": 7, "Last 30 days of data": 30, "Last 365 days of data": 365}
CUSTOM = "Custom range"
PREFERRED_SOURCE = "ercot_native_load"


@dataclass(frozen=True)
class Window:
    """An inclusive range of local calendar dates."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        """The window of the same length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Window(end - dt.timedelta(days=self.days - 1), end)

    def label(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y} ({self.days} days)"


@dataclass(frozen=True)
class Selection:
    """What the user picked; plain hashable fields so cached queries can key on them."""

    source_id: str
    regions: tuple[str, ...]
    window: Window
    include_major_event_days: bool


def quick_picks(first: dt.date, last: dt.date) -> list[str]:
    """Window choices for data spanning first..last: the last 7/30/365 days, each calendar year, a custom range."""
    years = [f"Year {year}" for year in range(last.year, first.year - 1, -1)]
    return [*LAST_N_DAYS, *years, CUSTOM]


def span(*ranges: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    """The smallest date range covering all the given ones (None entries ignored)."""
    known = [r for r in ranges if r is not None]
    return min(r[0] for r in known), max(r[1] for r in known)


def window_for_pick(pick: str, first: dt.date, last: dt.date) -> Window:
    """The date window a quick pick stands for; 'last N days' counts back from the last day that has data."""
    if pick in LAST_N_DAYS:
        return Window(last - dt.timedelta(days=LAST_N_DAYS[pick] - 1), last)
    if pick.startswith("Year "):
        year = int(pick.removeprefix("Year "))
        return Window(dt.date(year, 1, 1), dt.date(year, 12, 31))
    raise ValueError(f"unknown window pick {pick!r}")


def default_regions(regions: list[dict]) -> list[str]:
    """Non-aggregate regions (the zones) by default; a source that only reports a system total gets the total."""
    zones = [r["REGION_CODE"] for r in regions if not r["IS_AGGREGATE"]]
    return zones or [r["REGION_CODE"] for r in regions]


def double_counted(selected: tuple[str, ...], regions: list[dict]) -> list[str]:
    """Aggregate regions selected together with one of their own parts (their demand would be counted twice)."""
    parents = {r["PARENT_REGION_CODE"] for r in regions if r["REGION_CODE"] in selected}
    return [code for code in selected if code in parents]


def sidebar() -> Selection | None:
    """Draw the filters; None when the warehouse has no demand data at all."""
    sources = queries.demand_sources()
    if not sources:
        return None
    st.sidebar.header("Filters")
    source = st.sidebar.selectbox(
        "Demand source",
        sources,
        index=sources.index(PREFERRED_SOURCE) if PREFERRED_SOURCE in sources else 0,
        key="source",
        help="Several sources report demand for the same regions (ERCOT's own native load, EIA-930 as published "
        "and as cleaned, the synthetic utility). Pick one so that figures are never mixed.",
    )
    regions = queries.regions_for_source(source)
    names = {r["REGION_CODE"]: r["REGION_NAME"] for r in regions}
    outages_only = {
        r["REGION_CODE"]: r["REGION_NAME"] for r in queries.outage_regions() if r["REGION_CODE"] not in names
    }
    chosen = st.sidebar.multiselect(
        "Regions",
        [*names, *outages_only],
        default=default_regions(regions),
        format_func=lambda code: code if code in names else f"{code} (outages only)",
        key=f"regions__{source}",
        help="Regions the demand source reports, then regions that only have outage data (e.g. NERC regions "
        "of the DOE OE-417 reports). "
        + " · ".join(f"{code}: {name}" for code, name in {**names, **outages_only}.items()),
    )
    first, last = queries.demand_date_range(source)
    # Outage logs may cover other years than the demand source (OE-417 2021-2022 beside ERCOT's 2021): their years
    # are offered too; 'last N days' still counts back from the demand data's last day.
    earliest, latest = span((first, last), queries.outage_date_range())
    picks = quick_picks(earliest, latest)
    pick = st.sidebar.selectbox("Date window", picks, index=picks.index("Last 365 days of data"), key="window_pick")
    if pick == CUSTOM:
        picked = st.sidebar.date_input(
            "From – to (local dates)",
            value=(first, last),
            min_value=earliest,
            max_value=latest,
            key="custom_range",
        )
        # While the user has clicked only the first date of the range, keep a one-day window.
        window = Window(picked[0], picked[-1]) if isinstance(picked, tuple | list) and picked else Window(first, last)
    else:
        window = window_for_pick(pick, first, last)
    include_med = st.sidebar.toggle(
        "Include Major Event Days",
        value=True,
        key="include_med",
        help="Major Event Days (IEEE 1366 2.5-beta method) are days whose SAIDI exceeds the threshold in force. "
        "Switch off to see outage charts and event lists without them.",
    )
    st.sidebar.caption(f"Data for {source}: {first:%d %b %Y} – {last:%d %b %Y}")
    return Selection(source, tuple(chosen), window, include_med)
