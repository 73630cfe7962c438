"""Altair charts with axis titles and units; each takes a small pandas frame of upper-case view columns."""

from __future__ import annotations

import altair as alt
import pandas as pd

REGION = alt.Color("REGION_CODE:N", title="Region")
MED_COLOR = "#d62728"


def daily_lines(frame: pd.DataFrame, column: str, title: str) -> alt.Chart:
    """One line per region over local dates."""
    return (
        alt.Chart(frame)
        .mark_line(point=len(frame) <= 62)
        .encode(
            x=alt.X("DATE_LOCAL:T", title="Date (local)"),
            y=alt.Y(f"{column}:Q", title=title),
            color=REGION,
            tooltip=[
                alt.Tooltip("REGION_CODE:N", title="Region"),
                alt.Tooltip("DATE_LOCAL:T", title="Date"),
                alt.Tooltip(f"{column}:Q", title=title, format=",.1f"),
            ],
        )
        .properties(height=300)
    )


def temperature_scatter(points: pd.DataFrame, fit: pd.DataFrame) -> alt.LayerChart:
    """Daily peak demand against the day's mean temperature, with the fitted quadratic drawn over it."""
    scatter = (
        alt.Chart(points)
        .mark_circle(size=30, opacity=0.6)
        .encode(
            x=alt.X("MEAN_TEMPERATURE_C:Q", title="Daily mean temperature (°C)"),
            y=alt.Y("PEAK_DEMAND_MW:Q", title="Daily peak demand (MW)"),
            color=REGION,
            tooltip=["REGION_CODE", "DATE_LOCAL:T", "MEAN_TEMPERATURE_C", "PEAK_DEMAND_MW"],
        )
    )
    line = alt.Chart(fit).mark_line(strokeWidth=3).encode(x="MEAN_TEMPERATURE_C:Q", y="PEAK_DEMAND_MW:Q", color=REGION)
    return (scatter + line).properties(height=340)


def degree_days(frame: pd.DataFrame) -> alt.Chart:
    """Monthly heating and cooling degree days (°F·day, base 65 °F), stacked per kind."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("MONTH:T", title="Month", timeUnit="yearmonth"),
            y=alt.Y("DEGREE_DAYS_F:Q", title="Degree days (°F·day, base 65 °F)"),
            color=alt.Color(
                "KIND:N",
                title="",
                scale=alt.Scale(domain=["Heating (HDD)", "Cooling (CDD)"], range=["#1f77b4", "#ff7f0e"]),
            ),
            xOffset="KIND:N",
            tooltip=["REGION_CODE", alt.Tooltip("MONTH:T", format="%b %Y"), "KIND", "DEGREE_DAYS_F"],
        )
        .properties(height=260)
    )


def load_profile(frame: pd.DataFrame) -> alt.Chart:
    """Hourly profile: mean (solid) and p95 (dashed) demand per local hour, one panel per day type."""
    long = frame.melt(
        id_vars=["REGION_CODE", "DAY_TYPE", "HOUR_LOCAL"],
        value_vars=["MEAN_DEMAND_MW", "P95_DEMAND_MW"],
        var_name="STATISTIC",
        value_name="DEMAND_MW",
    )
    long["STATISTIC"] = long["STATISTIC"].map({"MEAN_DEMAND_MW": "Average", "P95_DEMAND_MW": "95th percentile"})
    return (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("HOUR_LOCAL:O", title="Hour of day (local, hour beginning)"),
            y=alt.Y("DEMAND_MW:Q", title="Demand (MW)"),
            color=REGION,
            strokeDash=alt.StrokeDash(
                "STATISTIC:N",
                title="Statistic",
                scale=alt.Scale(domain=["Average", "95th percentile"], range=[[1, 0], [6, 4]]),
            ),
            column=alt.Column("DAY_TYPE:N", title="Day type"),
            tooltip=["REGION_CODE", "DAY_TYPE", "HOUR_LOCAL", "STATISTIC", alt.Tooltip("DEMAND_MW:Q", format=",.0f")],
        )
        .properties(height=300, width=380)
    )


def heatmap(frame: pd.DataFrame) -> alt.Chart:
    """Hour of day against local date, coloured by the selection's mean demand."""
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("DATE_LOCAL:T", title="Date (local)", timeUnit="yearmonthdate"),
            y=alt.Y("HOUR_LOCAL:O", title="Hour of day (local)"),
            color=alt.Color("MEAN_DEMAND_MW:Q", title="Demand (MW)", scale=alt.Scale(scheme="inferno")),
            tooltip=[
                alt.Tooltip("DATE_LOCAL:T", title="Date"),
                alt.Tooltip("HOUR_LOCAL:O", title="Hour"),
                alt.Tooltip("MEAN_DEMAND_MW:Q", title="Demand (MW)", format=",.0f"),
            ],
        )
        .properties(height=360)
    )


def load_factor(frame: pd.DataFrame, date_column: str, period: str) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{date_column}:T", title=f"{period} (local)"),
            y=alt.Y("LOAD_FACTOR:Q", title="Load factor (0–1)", scale=alt.Scale(domain=[0, 1])),
            color=REGION,
            tooltip=["REGION_CODE", alt.Tooltip(f"{date_column}:T"), alt.Tooltip("LOAD_FACTOR:Q", format=".3f")],
        )
        .properties(height=320)
    )


def monthly_reliability(frame: pd.DataFrame, column: str, title: str) -> alt.LayerChart:
    """Monthly index bars per region, with a red marker and count on months that contain Major Event Days."""
    base = alt.Chart(frame).encode(x=alt.X("MONTH_START_DATE:T", title="Month", timeUnit="yearmonth"))
    bars = base.mark_bar().encode(
        y=alt.Y(f"{column}:Q", title=title),
        color=REGION,
        xOffset="REGION_CODE:N",
        tooltip=["REGION_CODE", alt.Tooltip("MONTH_START_DATE:T", format="%b %Y"), column, "MAJOR_EVENT_DAYS"],
    )
    marks = (
        base.transform_filter("datum.MAJOR_EVENT_DAYS > 0")
        .mark_text(text="▲ MED", color=MED_COLOR, dy=-8, fontWeight="bold")
        .encode(y=alt.Y(f"max({column}):Q"))
    )
    return (bars + marks).properties(height=300)


def daily_saidi(frame: pd.DataFrame) -> alt.LayerChart:
    """Daily SAIDI per region with Major Event Days in red and the MED threshold in force as a dashed line."""
    base = alt.Chart(frame).encode(x=alt.X("DATE_LOCAL:T", title="Date (local)"))
    points = base.mark_circle(size=45).encode(
        y=alt.Y("SAIDI_MINUTES:Q", title="Daily SAIDI (minutes per customer)"),
        color=alt.condition(
            "datum.IS_MAJOR_EVENT_DAY", alt.value(MED_COLOR), alt.Color("REGION_CODE:N", title="Region")
        ),
        tooltip=["REGION_CODE", "DATE_LOCAL:T", "SAIDI_MINUTES", "IS_MAJOR_EVENT_DAY", "MED_THRESHOLD_SAIDI_MINUTES"],
    )
    threshold = base.mark_line(strokeDash=[6, 4], color="#555").encode(
        y="MED_THRESHOLD_SAIDI_MINUTES:Q", detail="REGION_CODE:N"
    )
    return (points + threshold).properties(height=300)


def causes(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("CAUSE:N", title="Cause", sort="-x"),
            x=alt.X("EVENTS:Q", title="Outage events (count)"),
            tooltip=["CAUSE", "EVENTS", "CUSTOMERS_AFFECTED", "CUSTOMER_MINUTES"],
        )
        .properties(height=alt.Step(28))
    )


def quarantine(frame: pd.DataFrame) -> alt.Chart:
    largest = int(frame.groupby("SOURCE_ID")["ROWS_QUARANTINED"].sum().max())
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("SOURCE_ID:N", title="Source"),
            x=alt.X(
                "sum(ROWS_QUARANTINED):Q",
                title="Quarantined rows (count)",
                axis=alt.Axis(format=",d", tickMinStep=1, tickCount=min(largest, 10)),
            ),
            color=alt.Color("REASON:N", title="Reason"),
            tooltip=["SOURCE_ID", "REASON", "ROWS_QUARANTINED"],
        )
        .properties(height=alt.Step(34))
    )
