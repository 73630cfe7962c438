"""Every Gold builder, listed: one module per idea contributes its `BUILDERS`; the run order is tables.GOLD_TABLES."""

from __future__ import annotations

from databricks_jobs import tables
from databricks_jobs.gold import (
    demand_coincident_peak,
    demand_daily,
    demand_hourly_profile,
    quality,
    reference_regions,
    reliability,
    weather,
)
from databricks_jobs.gold.builder import GoldBuilder

MODULES = (
    reference_regions,
    demand_daily,
    demand_hourly_profile,
    weather,
    demand_coincident_peak,
    quality,
    reliability,
)


def gold_builders() -> tuple[GoldBuilder, ...]:
    """One builder per Gold table, in the order of tables.GOLD_TABLES; a table without a builder (or with two) is an
    error, so a new contract cannot be forgotten."""
    found = {}
    for module in MODULES:
        for builder in module.BUILDERS:
            if builder.table.name in found:
                raise ValueError(f"more than one Gold builder for {builder.table.name}")
            found[builder.table.name] = builder
    expected = [t.name for t in tables.GOLD_TABLES]
    if sorted(found) != sorted(expected):
        raise ValueError(f"Gold builders {sorted(found)} != Gold tables {sorted(expected)}")
    return tuple(found[name] for name in expected)
