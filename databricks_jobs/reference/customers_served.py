"""Customers served (N_T, the denominator of SAIDI / SAIFI / MAIFI) per region and year, with provenance.

Only regions with a sourced count appear: a region without a row gets event-level figures but no per-customer indices.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

CUSTOMERS_SERVED_CSV = Path(__file__).with_name("customers_served.csv")


@lru_cache(maxsize=4)
def load_customers_served(path: str | Path = CUSTOMERS_SERVED_CSV) -> dict[tuple[str, int], int]:
    """(region_code, year) -> customers served. Raises naming the file and line on a bad or duplicate row."""
    counts: dict[tuple[str, int], int] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                key = (row["region_code"].strip(), int(row["year"]))
                value = int(row["customers_served"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: line {line_number}: bad customers_served row {row!r}: {exc}") from exc
            if value <= 0 or not (row.get("provenance") or "").strip():
                raise ValueError(f"{path}: line {line_number}: customers_served must be > 0 and have a provenance")
            if key in counts:
                raise ValueError(f"{path}: line {line_number}: duplicate row for {key}")
            counts[key] = value
    return counts
