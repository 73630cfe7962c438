"""Plausibility rules for staged Gold rows, checked before any curated table changes.

The rules follow the contract's column names and types (units in names, `*_pct` in percent): a value outside them
means the export is broken, not that the grid had a strange day, so the whole load is refused.

- every number is finite: NaN and +/-infinity are refused (Snowflake's FLOAT holds them, and one of them turns every
  sum, average and chart that touches it into NaN);
- calendar fields in their calendar range (month 1..12, hour 0..23, a year from 1990 to next year), hours of a day
  or period within what a day or a period holds, percentages 0..100, ratios 0..1;
- demand (`*_mw`), energy, durations (`*_minutes`), counts and indices are non-negative by default;
- temperatures within what a weather station has ever reported (with margin), degree days non-negative;
- an outage is restored at or after it started.

Each rule's SQL is written so that NaN fails it on Snowflake and on DuckDB alike: both order NaN above every other
number (Snowflake: "Special values for FLOAT"; DuckDB: "NaN values are considered equal and greater than all other
values"), so `NOT (x >= low AND x <= high)` holds for NaN and for both infinities, and is NULL (not a violation)
for a null value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .identifiers import quote_identifier

# The earliest day any configured source reports (the oldest samples start in the 2000s); earlier is a parse error.
EARLIEST_PLAUSIBLE_DATE = dt.date(1990, 1, 1)
# Local wall-clock dates run up to 14 hours ahead of UTC; a day of tolerance covers every time zone and clock skew.
FUTURE_TOLERANCE = dt.timedelta(days=1)
DATE_TYPES = {"date"}
TIMESTAMP_TYPES = {"timestamp", "timestamp_ntz"}
NUMERIC_TYPES = {"double", "int", "bigint"}
LARGEST_DOUBLE = 1.7976931348623157e308
# A year holds at most 8,784 hours (leap year); a local day 23, 24 or 25.
HOURS_IN_A_LEAP_YEAR = 8784
# Coldest and hottest air temperatures ever measured are -89.2 C and 56.7 C; beyond -100 / 70 is a unit or parse error.
TEMPERATURE_RANGE_C = (-100.0, 70.0)
# A degree day is at most |65 F - (-148 F)| = 213 (the coldest temperature above); 250 leaves margin.
DEGREE_DAYS_MAX_F = 250.0

# column name -> (low, high) for the columns whose name does not say their range by its suffix.
NAMED_RANGES: dict[str, tuple[float, float]] = {
    "month": (1, 12),
    "hour_local": (0, 23),
    "hours_reported": (0, 25),
    "hours_expected": (23, 25),
    "imputed_hours": (0, 25),
    "period_hours": (0, HOURS_IN_A_LEAP_YEAR),
    "load_factor": (0, 1),
    "coincidence_factor": (0, 1),
    "heating_degree_days_f": (0, DEGREE_DAYS_MAX_F),
    "cooling_degree_days_f": (0, DEGREE_DAYS_MAX_F),
}


@dataclass(frozen=True)
class Rule:
    """`violation` is a SQL condition, true for an implausible (non-null) value of `column`."""

    column: str
    violation: str
    params: tuple[Any, ...]
    expected: str


def _range_rule(name: str, low: float, high: float, expected: str | None = None) -> Rule:
    column = quote_identifier(name)
    return Rule(name, f"NOT ({column} >= ? AND {column} <= ?)", (low, high), expected or f"in [{low}, {high}]")


def numeric_range(name: str, now_utc: dt.datetime) -> tuple[float, float, str]:
    """(low, high, what it means) for a numeric contract column, by its name."""
    if name in NAMED_RANGES:
        low, high = NAMED_RANGES[name]
        return low, high, f"in [{low}, {high}]"
    if name == "year":
        return EARLIEST_PLAUSIBLE_DATE.year, now_utc.year + 1, f"a year from {EARLIEST_PLAUSIBLE_DATE.year} to next"
    if name.endswith("_pct"):
        return 0, 100, "a percentage in [0, 100]"
    if name.endswith("_c"):
        low, high = TEMPERATURE_RANGE_C
        return low, high, f"a temperature in [{low}, {high}] C"
    # Demand, energy, minutes, counts, indices, factors: non-negative and finite by default.
    return 0, LARGEST_DOUBLE, "non-negative and finite"


def rules_for(columns: tuple[tuple[str, str, bool], ...], now_utc: dt.datetime) -> list[Rule]:
    """The rules of one contract table's columns, as of `now_utc` (naive UTC)."""
    rules = []
    names = {name for name, _type, _nullable in columns}
    for name, spark_type, _nullable in columns:
        if spark_type in DATE_TYPES | TIMESTAMP_TYPES:
            latest = now_utc + FUTURE_TOLERANCE
            bounds = (
                (EARLIEST_PLAUSIBLE_DATE, latest.date())
                if spark_type in DATE_TYPES
                else (dt.datetime.combine(EARLIEST_PLAUSIBLE_DATE, dt.time()), latest)
            )
            rules.append(_range_rule(name, *bounds, expected=f"from {bounds[0]} to {bounds[1]}"))
        elif spark_type == "double":
            low, high, expected = numeric_range(name, now_utc)
            rules.append(_range_rule(name, float(low), float(high), expected))
        elif spark_type in NUMERIC_TYPES:  # integers: never NaN or infinite; a bound beyond them is no bound
            low, high, expected = numeric_range(name, now_utc)
            column = quote_identifier(name)
            if high == LARGEST_DOUBLE:
                rules.append(Rule(name, f"{column} < ?", (int(low),), expected.replace(" and finite", "")))
            else:
                rules.append(_range_rule(name, int(low), int(high), expected))
    # UTC only: local wall-clock times go back an hour when DST ends, so a restoration may read earlier locally.
    if {"started_at_utc", "restored_at_utc"} <= names:
        violation = f"{quote_identifier('restored_at_utc')} < {quote_identifier('started_at_utc')}"
        rules.append(Rule("restored_at_utc", violation, (), "not before started_at_utc"))
    return rules
