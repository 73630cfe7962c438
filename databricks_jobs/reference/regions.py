"""Regions as reference data: one row per region, with aliases so every source's spelling meets one code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from databricks_jobs.reference.config_root import config_file, file_key, read_reference_rows

REGIONS_CSV = Path(__file__).with_name("regions.csv")
# Every Gold query that reads a row's local time carries the regions as literal maps (gold/local_time.py): a utility
# has tens to hundreds of regions; more than this is refused naming the file.
MAX_REGIONS = 10_000


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
    defined_in: str = ""  # the regions.csv the row came from (named in conflict messages)
    line: int = 0  # its line in that file

    @property
    def row(self) -> str:
        return f"{self.region_code} ({self.defined_in}, line {self.line})"

    def values(self) -> tuple:
        """What the region is, without where its row was read (defined_in, line): what Gold's figures depend on."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in ("defined_in", "line"))


def _normalise_alias(text: str) -> str:
    """Case-, space-, dash- and underscore-insensitive key, so 'ERCO-COAS', 'ercot coast' and 'COAST' compare."""
    return " ".join(text.replace("-", " ").replace("_", " ").lower().split())


@lru_cache(maxsize=8)
def _read_regions(key: tuple[str, int]) -> tuple[Region, ...]:
    path = key[0]
    rows = read_reference_rows(path)
    if len(rows) > MAX_REGIONS:
        raise ValueError(f"{path}: {len(rows):,} regions; at most {MAX_REGIONS:,} are allowed")
    regions = []
    for line, row in enumerate(rows, start=2):
        try:
            ZoneInfo(row["time_zone"])
            regions.append(
                Region(
                    region_code=row["region_code"].strip(),
                    region_name=row["region_name"],
                    parent_region_code=row["parent_region_code"] or None,
                    is_aggregate=row["is_aggregate"].strip().lower() == "true",
                    time_zone=row["time_zone"],
                    weather_station_id=row["weather_station_id"] or None,
                    weather_station_name=row["weather_station_name"] or None,
                    aliases=tuple(a for a in (row["aliases"] or "").split("|") if a),
                    defined_in=path,
                    line=line,
                )
            )
        except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as error:
            raise ValueError(f"{path}: line {line}: bad region row {row!r}: {error!r}") from None
    twice = sorted(code for code, n in Counter(r.region_code for r in regions).items() if n > 1)
    if twice:
        raise ValueError(f"{path}: region_code listed twice: {twice}")
    check_stations(regions)
    return tuple(regions)


def check_stations(regions: list[Region] | tuple[Region, ...]) -> None:
    """A weather station belongs to one region (Silver maps a station's readings to its region): raise naming both
    rows when two claim one."""
    owner: dict[str, Region] = {}
    for region in regions:
        station = (region.weather_station_id or "").strip().upper()
        if not station:
            continue
        other = owner.setdefault(station, region)
        if other is not region:
            raise ValueError(
                f"weather station {region.weather_station_id!r} is claimed by both {other.row} and {region.row}"
            )


def load_regions(config_root: str | Path | None = None) -> tuple[Region, ...]:
    """The packaged regions.csv with `config_root`'s regions.csv over it (None: the packaged rows only): a row with a
    packaged region_code replaces it, others are added. Raises naming both files if two regions claim one
    alias, and both rows if two claim one weather station."""
    merged = {r.region_code: r for r in _read_regions(file_key(REGIONS_CSV))}
    override = config_file(config_root, "regions.csv")
    if override is not None:
        merged.update({r.region_code: r for r in _read_regions(file_key(override))})
    regions = tuple(merged.values())
    alias_map(regions)
    check_stations(regions)
    return regions


def alias_map(regions: tuple[Region, ...]) -> dict[str, str]:
    """Normalised alias (and code) -> region_code. Raises if two regions claim one alias."""
    mapping: dict[str, Region] = {}
    for region in regions:
        for name in (region.region_code, *region.aliases):
            key = _normalise_alias(name)
            other = mapping.get(key, region)
            if other.region_code != region.region_code:
                raise ValueError(
                    f"alias {name!r} names both {other.region_code} ({other.defined_in}) and "
                    f"{region.region_code} ({region.defined_in})"
                )
            mapping[key] = region
    return {key: region.region_code for key, region in mapping.items()}


def resolve_region(name: str, regions: tuple[Region, ...]) -> str | None:
    """The canonical region_code for any known spelling, or None when the region is unknown."""
    return alias_map(regions).get(_normalise_alias(name))
