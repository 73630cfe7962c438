"""The seeded synthetic utility, as pure in-memory tables: feeders, outage events, weather and interval load.

Everything here is a deterministic function of `SyntheticConfig` (numpy Generators seeded per component, region and
year), so the writer and the tests' ground truth see exactly the same utility without reading any file.
Customers served per region and year come from the reference data (`reference/customers_served.csv`): the feeders of a
region split that count exactly, so SAIDI / SAIFI denominators are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.tables import QuarantineReason as Reason

SYNTHETIC_REGION_CODES = ("SYN_NORTH", "SYN_SOUTH", "SYN_EAST", "SYN_WEST")
# How the OMS export spells each region (an alias in regions.csv), so region mapping is exercised.
OMS_REGION_LABELS = {"SYN_NORTH": "SYN-N", "SYN_SOUTH": "SYN-S", "SYN_EAST": "SYN-E", "SYN_WEST": "SYN-W"}
# (annual mean C, seasonal amplitude C) per region's weather station.
CLIMATE = {"SYN_NORTH": (16.0, 12.0), "SYN_SOUTH": (21.0, 8.0), "SYN_EAST": (13.0, 12.0), "SYN_WEST": (11.0, 13.0)}
EXPORT_OVERLAP_DAYS = 7  # each yearly OMS export repeats the previous year's last week, as overlapping exports do
EVENTS_PER_FEEDER_YEAR = 6.0  # incl. fuse-level (partial) outages; whole-feeder ones are rarer
MOMENTARY_SHARE = 0.3
UNKNOWN_CUSTOMERS_SHARE = 0.01
STORM_DAYS_PER_REGION_YEAR = 2
AVERAGE_KW_PER_CUSTOMER = 1.2
NORMAL_CAUSES = ("vegetation", "equipment failure", "animal", "vehicle", "lightning", "unknown")
SUSTAINED_DEVICES = ("fuse", "recloser", "breaker", "transformer", "switch")
MOMENTARY_DEVICES = ("recloser", "breaker")
# Relative hourly load shape by local hour (morning and evening peaks), weekday; weekends are flatter.
HOURLY_SHAPE = np.array(
    [0.62, 0.58, 0.56, 0.55, 0.57, 0.64, 0.78, 0.90, 0.94, 0.95, 0.96, 0.97]
    + [0.98, 0.98, 0.99, 1.00, 1.03, 1.08, 1.12, 1.10, 1.02, 0.91, 0.79, 0.69]
)
STREAMS = {"feeders": 1, "events": 2, "weather": 3, "load": 4, "bad_rows": 5}


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate. `years` counts back from `last_year` (default 6: five years of MED history + the year)."""

    seed: int = 42
    years: int = 6
    last_year: int = 2025
    regions: int = 4
    feeders_per_region: int = 20
    interval_minutes: int = 60
    inject_bad_rows: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.regions <= len(SYNTHETIC_REGION_CODES):
            raise ValueError(f"regions must be 1..{len(SYNTHETIC_REGION_CODES)}, got {self.regions}")
        if self.feeders_per_region < 1 or self.years < 1:
            raise ValueError("feeders_per_region and years must be >= 1")
        if self.interval_minutes not in (5, 10, 15, 30, 60):
            raise ValueError(f"interval_minutes must divide an hour (5, 10, 15, 30, 60), got {self.interval_minutes}")
        served = load_customers_served()
        missing = [(r, y) for r in self.region_codes for y in self.year_list if (r, y) not in served]
        if missing:
            raise ValueError(f"no customers served in reference/customers_served.csv for {missing[:3]}...")

    @property
    def year_list(self) -> list[int]:
        return list(range(self.last_year - self.years + 1, self.last_year + 1))

    @property
    def region_codes(self) -> list[str]:
        return list(SYNTHETIC_REGION_CODES[: self.regions])

    def rng(self, stream: str, *keys: int) -> np.random.Generator:
        """An independent generator per component and key, so changing one part leaves the others identical."""
        return np.random.default_rng([self.seed, STREAMS[stream], *keys])


def region_time_zone(region_code: str) -> str:
    return next(r.time_zone for r in load_regions() if r.region_code == region_code)


def weather_station_id(region_code: str) -> str:
    return next(r.weather_station_id for r in load_regions() if r.region_code == region_code)


def _split_exactly(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer shares of `total` proportional to `weights` that add up to `total` (largest remainder)."""
    raw = total * weights / weights.sum()
    shares = np.floor(raw).astype(np.int64)
    remainder = total - shares.sum()
    shares[np.argsort(raw - shares)[::-1][:remainder]] += 1
    return shares


def build_feeders(config: SyntheticConfig) -> pd.DataFrame:
    """One row per region, feeder and year with the feeder's customers; they add up to the region's customers served."""
    served = load_customers_served()
    frames = []
    for region_index, region in enumerate(config.region_codes):
        weights = config.rng("feeders", region_index).gamma(4.0, size=config.feeders_per_region)
        feeder_ids = [f"{region}-F{i + 1:04d}" for i in range(config.feeders_per_region)]
        for year in config.year_list:
            frames.append(
                pd.DataFrame(
                    {
                        "region_code": region,
                        "feeder_id": feeder_ids,
                        "year": year,
                        "customers": _split_exactly(served[(region, year)], weights),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def customers_served_table(config: SyntheticConfig) -> pd.DataFrame:
    served = load_customers_served()
    rows = [(r, y, served[(r, y)]) for r in config.region_codes for y in config.year_list]
    return pd.DataFrame(rows, columns=["region_code", "year", "customers_served"])


def _year_bounds_utc(year: int, time_zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(year=year, month=1, day=1).tz_localize(time_zone).tz_convert("UTC")
    end = pd.Timestamp(year=year + 1, month=1, day=1).tz_localize(time_zone).tz_convert("UTC")
    return start, end


def _region_year_events(config: SyntheticConfig, region_index: int, year: int, customers: np.ndarray) -> pd.DataFrame:
    """Poisson background events plus storm days (many long events) for one region and year."""
    region = config.region_codes[region_index]
    rng = config.rng("events", region_index, year)
    n_feeders = len(customers)
    year_start, year_end = _year_bounds_utc(year, region_time_zone(region))
    year_seconds = int((year_end - year_start).total_seconds())

    n_normal = rng.poisson(EVENTS_PER_FEEDER_YEAR * n_feeders)
    normal_feeders = rng.integers(0, n_feeders, n_normal)
    normal_offsets = rng.integers(0, year_seconds // 60, n_normal) * 60
    is_momentary = rng.random(n_normal) < MOMENTARY_SHARE
    sustained_seconds = np.clip(rng.lognormal(np.log(75.0), 0.7, n_normal) * 60, 5 * 60 + 1, 1440 * 60)
    momentary_seconds = rng.integers(20, 5 * 60 + 1, n_normal)
    normal_duration = np.where(is_momentary, momentary_seconds, sustained_seconds).astype(np.int64)
    normal_whole = rng.random(n_normal) < 0.1
    normal_cause = rng.choice(NORMAL_CAUSES, n_normal)
    normal_device = np.where(
        is_momentary, rng.choice(MOMENTARY_DEVICES, n_normal), rng.choice(SUSTAINED_DEVICES, n_normal)
    )

    storm_days = rng.choice(np.arange(1, 360), STORM_DAYS_PER_REGION_YEAR, replace=False)
    storm_feeders, storm_offsets = [], []
    for day in storm_days:
        hit = rng.choice(n_feeders, max(1, int(np.ceil(n_feeders * rng.uniform(0.4, 0.7)))), replace=False)
        local_midnight = pd.Timestamp(year=year, month=1, day=1) + pd.Timedelta(days=int(day))
        day_start = local_midnight.tz_localize(region_time_zone(region)).tz_convert("UTC")
        starts = day_start + pd.to_timedelta(rng.integers(0, 23 * 60, len(hit)) * 60, unit="s")
        storm_feeders.append(hit)
        storm_offsets.append(((starts - year_start).total_seconds()).astype(np.int64))
    storm_feeders = np.concatenate(storm_feeders)
    storm_offsets = np.concatenate(storm_offsets)
    n_storm = len(storm_feeders)
    storm_duration = (np.clip(rng.lognormal(np.log(480.0), 0.4, n_storm), 60, 4000) * 60).astype(np.int64)

    feeders = np.concatenate([normal_feeders, storm_feeders])
    whole = np.concatenate([normal_whole, rng.random(n_storm) < 0.85])
    feeder_customers = customers[feeders]
    partial = np.ceil(rng.uniform(0.01, 0.3, len(feeders)) * feeder_customers).astype(np.int64)
    events = pd.DataFrame(
        {
            "region_code": region,
            "feeder_id": [f"{region}-F{i + 1:04d}" for i in feeders],
            "started_at_utc": year_start + pd.to_timedelta(np.concatenate([normal_offsets, storm_offsets]), unit="s"),
            "duration_seconds": np.concatenate([normal_duration, storm_duration]),
            "customers_affected": pd.array(np.where(whole, feeder_customers, partial), dtype="Int64"),
            "feeder_customers": feeder_customers,
            "is_storm": np.r_[np.zeros(n_normal, bool), np.ones(n_storm, bool)],
            "cause": np.concatenate([normal_cause, np.full(n_storm, "weather")]),
            "device": np.concatenate([normal_device, rng.choice(SUSTAINED_DEVICES, n_storm)]),
        }
    )
    unknown = rng.random(len(events)) < UNKNOWN_CUSTOMERS_SHARE
    events.loc[unknown, "customers_affected"] = pd.NA
    return events


def build_events(config: SyntheticConfig) -> pd.DataFrame:
    """Ground truth: one row per distinct outage event (no duplicates, no bad rows), sorted by start.

    The latest event of each region in the last year is still open (no restoration, no duration).
    """
    feeders = build_feeders(config)
    frames = []
    for region_index, region in enumerate(config.region_codes):
        for year in config.year_list:
            customers = feeders.query("region_code == @region and year == @year")["customers"].to_numpy()
            frame = _region_year_events(config, region_index, year, customers)
            frame = frame.sort_values(["started_at_utc", "feeder_id"], kind="stable").reset_index(drop=True)
            frame.insert(0, "event_id", [f"{OMS_REGION_LABELS[region]}-{year}-{i + 1:05d}" for i in range(len(frame))])
            frames.append(frame)
    events = pd.concat(frames, ignore_index=True)
    events["restored_at_utc"] = events["started_at_utc"] + pd.to_timedelta(events["duration_seconds"], unit="s")
    events["is_open"] = False
    last_year_rows = events[events["started_at_utc"].dt.tz_convert("UTC").dt.year >= config.last_year]
    open_index = last_year_rows.groupby("region_code")["started_at_utc"].idxmax()
    events.loc[open_index, "is_open"] = True
    events.loc[open_index, "restored_at_utc"] = pd.NaT
    events["duration_minutes"] = np.where(events["is_open"], np.nan, events["duration_seconds"] / 60.0)
    events["time_zone"] = events["region_code"].map(region_time_zone)
    return events.drop(columns="duration_seconds").sort_values(["started_at_utc", "event_id"], ignore_index=True)


def _local_iso(instants: pd.Series, time_zones: pd.Series) -> pd.Series:
    """ISO 8601 local wall-clock with UTC offset, e.g. 2021-03-14T03:05:00-05:00 (unambiguous across DST)."""
    out = pd.Series("", index=instants.index, dtype=object)
    for tz in time_zones.unique():
        mask = (time_zones == tz) & instants.notna()
        text = instants[mask].dt.tz_convert(tz).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
        out[mask] = text.str.slice(0, -2) + ":" + text.str.slice(-2)
    return out


def oms_export_rows(config: SyntheticConfig, events: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The OMS CSV rows of each yearly export (restoration-time variant), with the overlap and bad rows.

    The export for year Y holds events starting in Y plus the last EXPORT_OVERLAP_DAYS of Y-1 (the duplicates Silver
    must merge once). Unknown customer counts are written as UNKNOWN; open events have an empty restoration time.
    """
    start_local_year = pd.Series(
        [ts.tz_convert(tz).year for ts, tz in zip(events["started_at_utc"], events["time_zone"], strict=True)],
        index=events.index,
    )
    table = pd.DataFrame(
        {
            "event_id": events["event_id"],
            "region": events["region_code"].map(OMS_REGION_LABELS),
            "feeder_id": events["feeder_id"],
            "outage_start": _local_iso(events["started_at_utc"], events["time_zone"]),
            "restoration_time": _local_iso(events["restored_at_utc"], events["time_zone"]),
            "customers_affected": events["customers_affected"]
            .astype(object)
            .where(events["customers_affected"].notna(), "UNKNOWN"),
            "cause": events["cause"],
            "device": events["device"],
        }
    )
    exports = {}
    for year in config.year_list:
        overlap_start = pd.Timestamp(year=year, month=1, day=1, tz="UTC") - pd.Timedelta(days=EXPORT_OVERLAP_DAYS)
        in_export = (start_local_year == year) | (
            (start_local_year == year - 1) & (events["started_at_utc"] >= overlap_start)
        )
        exports[year] = table[in_export].reset_index(drop=True)
    if config.inject_bad_rows:
        last = config.last_year
        exports[last] = pd.concat([exports[last], bad_oms_rows(config)], ignore_index=True)
    return exports


def bad_oms_rows(config: SyntheticConfig) -> pd.DataFrame:
    """Rows Silver must quarantine, with the reason it must give (column `expected_reason`, not written)."""
    region = config.region_codes[0]
    label, feeder, year = OMS_REGION_LABELS[region], f"{region}-F0001", config.last_year
    day = f"{year}-06-0"  # early June: every synthetic time zone is on daylight time, offset below is CDT
    at, until = "T10:00:00-05:00", "T11:00:00-05:00"
    # (event_id, region, start, restoration, customers affected, the reason Silver must give)
    rows = [
        ("BAD-1", label, f"{day}1{at}", f"{day}1T09:00:00-05:00", "10", Reason.RESTORATION_BEFORE_START),
        ("BAD-2", label, f"{day}2{at}", f"{day}2{until}", "-4", Reason.NEGATIVE_CUSTOMERS),
        ("BAD-3", "NOWHERE", f"{day}3{at}", f"{day}3{until}", "7", Reason.UNKNOWN_REGION),
        ("BAD-4", label, "not a date", f"{day}4{until}", "7", Reason.UNPARSEABLE_TIMESTAMP),
        ("BAD-5", label, f"{day}5{at}", f"{day}5{until}", "99999999", Reason.ABSURD_CUSTOMERS),
    ]
    columns = ["event_id", "region", "outage_start", "restoration_time", "customers_affected", "expected_reason"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(2, "feeder_id", feeder)
    frame["cause"], frame["device"] = "unknown", "fuse"
    return frame


@dataclass(frozen=True)
class SyntheticUtility:
    """The exact ground truth of one configuration (computed lazily, cached)."""

    config: SyntheticConfig

    @cached_property
    def feeders(self) -> pd.DataFrame:
        return build_feeders(self.config)

    @cached_property
    def customers_served(self) -> pd.DataFrame:
        return customers_served_table(self.config)

    @cached_property
    def events(self) -> pd.DataFrame:
        return build_events(self.config)

    @cached_property
    def oms_exports(self) -> dict[int, pd.DataFrame]:
        return oms_export_rows(self.config, self.events)


def hourly_temperature(config: SyntheticConfig, region_index: int, year: int) -> pd.DataFrame:
    """Hourly air temperature (C) of a region's station for one local year, UTC hour-beginning."""
    region = config.region_codes[region_index]
    tz = region_time_zone(region)
    start, end = _year_bounds_utc(year, tz)
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    local = hours.tz_convert(tz)
    rng = config.rng("weather", region_index, year)
    mean, amplitude = CLIMATE[region]
    seasonal = mean - amplitude * np.cos(2 * np.pi * (local.dayofyear.to_numpy() - 20) / 365.25)
    diurnal = -4.0 * np.cos(2 * np.pi * (local.hour.to_numpy() - 3) / 24)
    day_index = (local.normalize() - local.normalize()[0]).days.to_numpy()
    daily_anomaly = np.convolve(rng.normal(0, 2.5, day_index.max() + 3), np.ones(3) / np.sqrt(3), mode="same")
    temperature = seasonal + diurnal + daily_anomaly[day_index] + rng.normal(0, 0.6, len(hours))
    return pd.DataFrame(
        {
            "station_id": weather_station_id(region),
            "observed_at_utc": hours.tz_localize(None).astype("datetime64[s]"),
            "temperature_c": np.round(temperature, 1),
        }
    )


def interval_load_kw(
    config: SyntheticConfig,
    region_index: int,
    year: int,
    customers: np.ndarray,
    feeder_slice: slice,
    temperature_c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval load (kW) for a slice of a region's feeders (`customers`: all its feeders' customers) over a local year.

    Returns (interval starts as int64 UTC seconds, feeder indices, load_kw), feeder-major, each of equal length.
    Load = customers x 1.2 kW x daily shape (weekend flatter) x (1 + cooling/heating response) x noise.
    """
    region = config.region_codes[region_index]
    tz = region_time_zone(region)
    start, end = _year_bounds_utc(year, tz)
    step = config.interval_minutes * 60
    starts = np.arange(int(start.timestamp()), int(end.timestamp()), step, dtype=np.int64)
    local = pd.DatetimeIndex(starts * 1_000_000_000).tz_localize("UTC").tz_convert(tz)
    hour_of_year = (starts - starts[0]) // 3600
    temp = temperature_c[np.minimum(hour_of_year, len(temperature_c) - 1)]
    is_weekend = local.dayofweek.to_numpy() >= 5
    shape = HOURLY_SHAPE[local.hour.to_numpy()] * np.where(is_weekend, 0.9, 1.0)
    weather = 1 + 0.035 * np.maximum(temp - 22.0, 0) + 0.02 * np.maximum(12.0 - temp, 0)
    profile = shape * weather

    feeder_index = np.arange(len(customers))[feeder_slice]
    base_kw = customers[feeder_slice] * AVERAGE_KW_PER_CUSTOMER
    rng = config.rng("load", region_index, year, feeder_index[0] if len(feeder_index) else 0)
    noise = rng.normal(1.0, 0.03, (len(feeder_index), len(starts)))
    load = np.round(base_kw[:, None] * profile[None, :] * noise, 3)
    return np.tile(starts, len(feeder_index)), np.repeat(feeder_index, len(starts)), load.ravel()
