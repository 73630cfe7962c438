"""Pure figures computed from the small aggregated results of queries.py (pandas in, numbers out)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

INDICES = ("SAIDI", "SAIFI", "CAIDI")


def window_reliability(per_region: pd.DataFrame) -> dict[str, float | None]:
    """SAIDI / SAIFI / CAIDI of the window, with ('_W_MED') and without ('_WO_MED') Major Event Days.

    Per region the window's SAIDI is the sum of its daily SAIDI over the window's days (without MED: over the days
    not flagged as Major Event Days), likewise SAIFI. Several regions combine weighted by customers served, so the
    result is per customer of the whole selection. CAIDI = SAIDI / SAIFI (none when SAIFI is 0).
    """
    suffixes = ("_W_MED", "_WO_MED")
    result: dict[str, float | None] = {f"{index}{suffix}": None for index in INDICES for suffix in suffixes}
    # A region without a customers-served count has no SAIDI / SAIFI; it cannot be weighted in.
    per_region = per_region.dropna(subset=["CUSTOMERS_SERVED", "SAIDI_W_MED_MINUTES", "SAIFI_W_MED"])
    if per_region.empty:
        return result
    weights = per_region["CUSTOMERS_SERVED"].astype(float)
    for suffix in suffixes:
        saidi = float((per_region[f"SAIDI{suffix}_MINUTES"].astype(float) * weights).sum() / weights.sum())
        saifi = float((per_region[f"SAIFI{suffix}"].astype(float) * weights).sum() / weights.sum())
        result[f"SAIDI{suffix}"] = saidi
        result[f"SAIFI{suffix}"] = saifi
        result[f"CAIDI{suffix}"] = saidi / saifi if saifi > 0 else None
    return result


def change_pct(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent; none when either side is missing or the previous value is 0."""
    if current is None or previous is None or previous == 0 or math.isnan(previous) or math.isnan(current):
        return None
    return 100.0 * (current - previous) / abs(previous)


def fitted_line(x: pd.Series, y: pd.Series, degree: int = 2) -> tuple[float, ...] | None:
    """Least-squares polynomial coefficients (highest power first); none with too few distinct points."""
    frame = pd.DataFrame({"x": x, "y": y}).dropna()
    if frame["x"].nunique() <= degree:
        return None
    return tuple(float(c) for c in np.polyfit(frame["x"], frame["y"], degree))
