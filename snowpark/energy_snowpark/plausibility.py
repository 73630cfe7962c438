"""Plausibility rules for staged Gold rows, checked before any curated table changes.

The rules follow the contract's column names and types (units in names, `*_pct` in percent): a value outside them
means the export is broken, not that the grid had a strange day, so the whole load is refused.
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


@dataclass(frozen=True)
class Rule:
    """`violation` is a SQL condition on the quoted column, true for an implausible (non-null) value."""

    column: str
    violation: str
    params: tuple[Any, ...]
    expected: str


def rules_for(columns: tuple[tuple[str, str, bool], ...], now_utc: dt.datetime) -> list[Rule]:
    """The rules of one contract table's columns, as of `now_utc` (naive UTC)."""
    rules = []
    for name, spark_type, _nullable in columns:
        column = quote_identifier(name)
        if spark_type in DATE_TYPES | TIMESTAMP_TYPES:
            latest = now_utc + FUTURE_TOLERANCE
            bounds = (
                (EARLIEST_PLAUSIBLE_DATE, latest.date())
                if spark_type in DATE_TYPES
                else (dt.datetime.combine(EARLIEST_PLAUSIBLE_DATE, dt.time()), latest)
            )
            rules.append(Rule(name, f"{column} < ? OR {column} > ?", bounds, f"from {bounds[0]} to {bounds[1]}"))
        if spark_type not in NUMERIC_TYPES:
            continue  # e.g. is_customers_unknown: a flag, not a count
        if name == "load_factor":
            rules.append(Rule(name, f"{column} < 0 OR {column} > 1", (), "in [0, 1]"))
        elif name.endswith("_pct") and name.startswith("completeness"):
            rules.append(Rule(name, f"{column} < 0 OR {column} > 100", (), "in [0, 100]"))
        elif name.startswith("energy_") or "customer" in name:
            rules.append(Rule(name, f"{column} < 0", (), "non-negative"))
    return rules
