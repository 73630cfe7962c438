"""Writes the synthetic utility's raw files (the shapes described in README.md), chunked so memory stays flat."""

from __future__ import annotations

import filecmp
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from databricks_jobs.synthetic.model import (
    OMS_REGION_LABELS,
    SyntheticConfig,
    SyntheticUtility,
    hourly_temperature,
    interval_load_kw,
    weather_station_id,
)

SYNTHETIC_FOLDER = "synthetic_utility"
ROWS_PER_CHUNK = 2_000_000
_CSV_OPTIONS = pa_csv.WriteOptions(quoting_style="none")


@dataclass
class SyntheticSummary:
    """What was written: files per kind and row counts (the benchmark and the tests read these)."""

    output_dir: Path
    config: SyntheticConfig
    files: dict[str, list[Path]] = field(default_factory=dict)
    interval_rows: int = 0
    weather_rows: int = 0
    oms_rows: int = 0
    distinct_events: int = 0
    duplicate_oms_rows: int = 0
    bad_oms_rows: int = 0
    seconds: float = 0.0
    # Files whose bytes were already there: left untouched (same modification time), so Bronze's listing check
    # recognises them without reading them again.
    unchanged: list[Path] = field(default_factory=list)

    @property
    def rewritten(self) -> list[Path]:
        """Files whose bytes were new or different (written again, with a new modification time)."""
        unchanged = set(self.unchanged)
        return [p for paths in self.files.values() for p in paths if p not in unchanged]

    def describe(self) -> str:
        c = self.config
        return (
            f"synthetic utility (seed {c.seed}, {c.regions} regions x {c.feeders_per_region} feeders, "
            f"{c.year_list[0]}-{c.year_list[-1]}, {c.interval_minutes}-minute load) -> {self.output_dir}\n"
            f"  interval load rows: {self.interval_rows:,} in {len(self.files.get('interval_load', []))} files\n"
            f"  weather rows: {self.weather_rows:,}\n"
            f"  OMS rows: {self.oms_rows:,} = {self.distinct_events:,} distinct events + "
            f"{self.duplicate_oms_rows:,} overlap duplicates + {self.bad_oms_rows:,} bad rows\n"
            f"  files: {len(self.rewritten)} written, {len(self.unchanged)} already identical (left untouched)\n"
            f"  took {self.seconds:.1f} s"
        )


@contextmanager
def _replaced_if_changed(path: Path, unchanged: list[Path]) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to; afterwards it replaces `path` only if its bytes differ.

    Regenerating the same seed rewrites identical bytes; keeping the old file keeps its modification time, which is
    what tells Bronze (and rsync-like tools) that nothing changed. The temporary name does not end in .csv, so no
    source glob picks up a half-written file, and os.replace makes a changed file appear whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        yield temporary
        if _same_bytes(temporary, path):
            temporary.unlink()
            unchanged.append(path)
        else:
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _same_bytes(new: Path, old: Path) -> bool:
    # filecmp with shallow=False compares sizes first, then contents in chunks (flat memory for the large load files).
    return old.is_file() and filecmp.cmp(new, old, shallow=False)


def _write_csv(table: pa.Table, path: Path, unchanged: list[Path]) -> Path:
    with _replaced_if_changed(path, unchanged) as temporary:
        pa_csv.write_csv(table, temporary, _CSV_OPTIONS)
    return path


def _write_reference(utility: SyntheticUtility, root: Path, summary: SyntheticSummary) -> list[Path]:
    feeders = pa.Table.from_pandas(utility.feeders, preserve_index=False)
    served = pa.Table.from_pandas(utility.customers_served, preserve_index=False)
    return [
        _write_csv(feeders, root / "reference" / "feeders.csv", summary.unchanged),
        _write_csv(served, root / "reference" / "customers_served.csv", summary.unchanged),
    ]


def _write_oms(utility: SyntheticUtility, root: Path, summary: SyntheticSummary) -> list[Path]:
    paths = []
    for year, rows in utility.oms_exports.items():
        rows = rows.drop(columns=["expected_reason"], errors="ignore").astype(str)
        paths.append(
            _write_csv(
                pa.Table.from_pandas(rows, preserve_index=False),
                root / "oms_outages" / f"oms_outages_{year}.csv",
                summary.unchanged,
            )
        )
        summary.oms_rows += len(rows)
    return paths


def _write_load_and_weather(utility: SyntheticUtility, root: Path, summary: SyntheticSummary) -> None:
    config = utility.config
    feeders = utility.feeders
    for region_index, region in enumerate(config.region_codes):
        for year in config.year_list:
            weather = hourly_temperature(config, region_index, year)
            station = weather_station_id(region)
            path = root / "weather" / f"weather_{station}_{year}.csv"
            table = pa.Table.from_pandas(weather, preserve_index=False)
            summary.files["weather"].append(_write_csv(table, path, summary.unchanged))
            summary.weather_rows += len(weather)

            customers = feeders.query("region_code == @region and year == @year")["customers"].to_numpy()
            path = root / "interval_load" / f"interval_load_{region}_{year}.csv"
            with _replaced_if_changed(path, summary.unchanged) as temporary:
                temperature_c = weather["temperature_c"].to_numpy()
                summary.interval_rows += _write_interval_load(
                    config, region_index, year, customers, temperature_c, temporary
                )
            summary.files["interval_load"].append(path)


def _write_interval_load(
    config: SyntheticConfig,
    region_index: int,
    year: int,
    customers: np.ndarray,
    temperature_c: np.ndarray,
    path: Path,
) -> int:
    """One region-year of interval load, chunk by chunk (the largest files: memory stays flat); returns its rows."""
    region = config.region_codes[region_index]
    label = pa.array([OMS_REGION_LABELS[region]])
    feeder_names = pa.array([f"{region}-F{i + 1:04d}" for i in range(len(customers))])
    intervals_per_feeder = len(temperature_c) * 60 // config.interval_minutes + 4
    feeders_per_chunk = max(1, ROWS_PER_CHUNK // intervals_per_feeder)
    writer, rows = None, 0
    for first in range(0, len(customers), feeders_per_chunk):
        starts, feeder_index, load = interval_load_kw(
            config, region_index, year, customers, slice(first, first + feeders_per_chunk), temperature_c
        )
        chunk = pa.table(
            {
                # Naive timestamps write ~15x faster than zoned ones; the column name says they are UTC.
                "interval_start_utc": pa.array(starts * 1_000_000, pa.timestamp("us")).cast(pa.timestamp("s")),
                "region": pa.DictionaryArray.from_arrays(np.zeros(len(starts), np.int32), label),
                "feeder_id": pa.DictionaryArray.from_arrays(feeder_index.astype(np.int32), feeder_names),
                "load_kw": load,
            }
        )
        if writer is None:
            writer = pa_csv.CSVWriter(path, chunk.schema, write_options=_CSV_OPTIONS)
        writer.write_table(chunk)
        rows += len(starts)
    writer.close()
    return rows


def generate_synthetic_utility(
    out_dir: str | Path,
    seed: int = 42,
    years: int = 6,
    regions: int = 4,
    feeders_per_region: int = 20,
    interval_minutes: int = 60,
    last_year: int = 2025,
    inject_bad_rows: bool = True,
) -> SyntheticSummary:
    """Write the seeded synthetic utility under {out_dir}/synthetic_utility/ and return what was written.

    Same arguments, same bytes. Interval rows = regions x feeders x intervals per year x years.
    """
    started = time.perf_counter()
    config = SyntheticConfig(seed, years, last_year, regions, feeders_per_region, interval_minutes, inject_bad_rows)
    utility = SyntheticUtility(config)
    root = Path(out_dir) / SYNTHETIC_FOLDER
    summary = SyntheticSummary(output_dir=root, config=config, files={"weather": [], "interval_load": []})
    summary.files["reference"] = _write_reference(utility, root, summary)
    summary.files["oms_outages"] = _write_oms(utility, root, summary)
    summary.distinct_events = len(utility.events)
    summary.bad_oms_rows = (
        len(utility.oms_exports[config.last_year].dropna(subset=["expected_reason"])) if (inject_bad_rows) else 0
    )
    summary.duplicate_oms_rows = summary.oms_rows - summary.distinct_events - summary.bad_oms_rows
    _write_load_and_weather(utility, root, summary)
    summary.seconds = time.perf_counter() - started
    return summary
