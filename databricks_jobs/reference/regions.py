"""Regions as reference data: one row per region, with aliases so every source's spelling meets one code."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REGIONS_CSV = Path(__file__).with_name("regions.csv")


@dataclass(frozen=True)
class Region:
    region_code: str
    region_name: str
    parent_region_code: str | None
    is_aggregate: bool
    time_zone: str
    weather_station_id: str | None
    weather_station_name: str | None
    aliases: tuple[str, ...]


def _normalise_alias(text: str) -> str:
    """Case-, space-, dash- and underscore-insensitive key, so 'ERCO-COAS', 'ercot coast' and 'COAST' compare."""
    return " ".join(text.replace("-", " ").replace("_", " ").lower().split())


@lru_cache(maxsize=4)
def load_regions(path: str | Path = REGIONS_CSV) -> tuple[Region, ...]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        Region(
            region_code=row["region_code"],
            region_name=row["region_name"],
            parent_region_code=row["parent_region_code"] or None,
            is_aggregate=row["is_aggregate"].strip().lower() == "true",
            time_zone=row["time_zone"],
            weather_station_id=row["weather_station_id"] or None,
            weather_station_name=row["weather_station_name"] or None,
            aliases=tuple(a for a in row["aliases"].split("|") if a),
        )
        for row in rows
    )


def alias_map(regions: tuple[Region, ...] | None = None) -> dict[str, str]:
    """Normalised alias (and code) -> region_code. Raises if two regions claim one alias."""
    mapping: dict[str, str] = {}
    for region in regions or load_regions():
        for name in (region.region_code, *region.aliases):
            key = _normalise_alias(name)
            if mapping.get(key, region.region_code) != region.region_code:
                raise ValueError(f"alias {name!r} names both {mapping[key]} and {region.region_code}")
            mapping[key] = region.region_code
    return mapping


def resolve_region(name: str, regions: tuple[Region, ...] | None = None) -> str | None:
    """The canonical region_code for any known spelling, or None when the region is unknown."""
    return alias_map(regions).get(_normalise_alias(name))
