"""Load factor: average demand over peak demand (0..1), the share of the peak's capacity a period actually used.

Three forms of one definition, so SQL, aggregates and pandas agree: a scalar UDF `load_factor(avg, peak)`, a UDAF over
a column of hourly demand values (energy / (peak x hours)), and a vectorized (pandas) UDF. Undefined cases (no data,
peak <= 0) return NULL rather than 0 or infinity, so a chart shows a gap instead of a wrong value.
"""

from __future__ import annotations

import math
from typing import Optional

import pandas as pd

try:  # the decorator marks the handler as vectorized for Snowflake; absent outside a Snowpark install
    from _snowflake import vectorized
except ImportError:  # pragma: no cover - exercised outside Snowflake

    def vectorized(**_kwargs):
        def mark(func):
            func._sf_vectorized_input = _kwargs.get("input")
            return func

        return mark


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def load_factor(avg_demand_mw: Optional[float], peak_demand_mw: Optional[float]) -> Optional[float]:  # noqa: UP045
    """avg / peak; NULL when either is missing or the peak is not positive."""
    if _is_missing(avg_demand_mw) or _is_missing(peak_demand_mw) or peak_demand_mw <= 0:
        return None
    return float(avg_demand_mw) / float(peak_demand_mw)


# Handlers use Optional[...] rather than `X | None`: Snowpark derives UDF types from the hints and rejects the `|` form.
class LoadFactorAggregate:
    """UDAF handler: load factor of a column of hourly demand values = energy / (peak x hours).

    Hourly values make energy in MWh equal the sum of MW; NULL demand values are skipped (not counted as hours).
    """

    def __init__(self) -> None:
        self._state = (0.0, None, 0)  # (energy_mwh, peak_mw, hours)

    @property
    def aggregate_state(self) -> tuple[float, float | None, int]:
        return self._state

    def accumulate(self, demand_mw: Optional[float]) -> None:  # noqa: UP045
        if _is_missing(demand_mw):
            return
        energy, peak, hours = self._state
        self._state = (energy + demand_mw, demand_mw if peak is None else max(peak, demand_mw), hours + 1)

    def merge(self, other_state: tuple[float, float | None, int]) -> None:
        energy, peak, hours = self._state
        other_energy, other_peak, other_hours = other_state
        peaks = [p for p in (peak, other_peak) if p is not None]
        self._state = (energy + other_energy, max(peaks) if peaks else None, hours + other_hours)

    def finish(self) -> Optional[float]:  # noqa: UP045
        energy, peak, hours = self._state
        if hours == 0:
            return None
        return load_factor(energy / hours, peak)


@vectorized(input=pd.DataFrame)
def load_factor_vectorized(frame: pd.DataFrame) -> pd.Series:
    """Vectorized UDF handler: column 0 is average demand, column 1 peak demand (one batch of rows)."""
    avg = pd.to_numeric(frame.iloc[:, 0], errors="coerce").astype("float64")
    peak = pd.to_numeric(frame.iloc[:, 1], errors="coerce").astype("float64")
    result = avg / peak.where(peak > 0)
    return result.astype("float64")
