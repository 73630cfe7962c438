"""Customers served (N_T, the denominator of SAIDI / SAIFI / MAIFI) per region and year, with provenance.

Only regions with a sourced count appear: a region without a row gets event-level figures but no per-customer indices.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from databricks_jobs.reference.config_root import config_file, file_key, read_reference_rows

CUSTOMERS_SERVED_CSV = Path(__file__).with_name("customers_served.csv")


@lru_cache(maxsize=8)
def _read_customers_served(key: tuple[str, int]) -> dict[tuple[str, int], int]:
    path = key[0]
    counts: dict[tuple[str, int], int] = {}
    for line_number, row in enumerate(read_reference_rows(path), start=2):
        try:
            row_key = (row["region_code"].strip(), int(row["year"]))
            value = int(row["customers_served"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: line {line_number}: bad customers_served row {row!r}: {exc}") from exc
        if value <= 0 or not (row.get("provenance") or "").strip():
            raise ValueError(f"{path}: line {line_number}: customers_served must be > 0 and have a provenance")
        if row_key in counts:
            raise ValueError(f"{path}: line {line_number}: duplicate row for {row_key}")
        counts[row_key] = value
    return counts


def load_customers_served(config_root: str | Path | None = None) -> dict[tuple[str, int], int]:
    """(region_code, year) -> customers served: the packaged file with `config_root`'s customers_served.csv over it
    (None: the packaged rows only; its rows replace packaged rows of the same region and year).
    Raises naming the file and line on a bad or duplicate row."""
    counts = dict(_read_customers_served(file_key(CUSTOMERS_SERVED_CSV)))
    override = config_file(config_root, "customers_served.csv")
    if override is not None:
        counts.update(_read_customers_served(file_key(override)))
    return counts
