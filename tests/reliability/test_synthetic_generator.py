"""The seeded synthetic utility: deterministic, exact denominators, and the event kinds the indices must handle."""

from __future__ import annotations

import hashlib
import os

import pandas as pd

from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.synthetic import SyntheticConfig, SyntheticUtility, generate_synthetic_utility
from local_platform.cli import main

SMALL = dict(years=3, regions=2, feeders_per_region=4)


def _digest(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.csv")}


def test_same_seed_same_bytes_other_seed_other_events(tmp_path):
    first = generate_synthetic_utility(tmp_path / "a", seed=3, **SMALL)
    generate_synthetic_utility(tmp_path / "b", seed=3, **SMALL)
    generate_synthetic_utility(tmp_path / "c", seed=4, **SMALL)
    a, b, c = (_digest(tmp_path / x / "synthetic_utility") for x in "abc")
    assert a == b and len(a) == 2 * 3 * 2 + 3 + 2  # load + weather per region-year, OMS per year, 2 reference
    assert a["oms_outages/oms_outages_2025.csv"] != c["oms_outages/oms_outages_2025.csv"]
    assert first.interval_rows == 2 * 4 * (8760 + 8784 + 8760)  # 2023, 2024 (leap), 2025 local years


def test_interval_rows_scale_with_interval_minutes(tmp_path):
    summary = generate_synthetic_utility(tmp_path, years=1, regions=1, feeders_per_region=3, interval_minutes=15)
    load = pd.read_csv(summary.files["interval_load"][0])
    assert summary.interval_rows == len(load) == 3 * 8760 * 4
    assert list(load.columns) == ["interval_start_utc", "region", "feeder_id", "load_kw"]
    assert (load["load_kw"] > 0).all() and load.groupby("feeder_id").size().eq(8760 * 4).all()


def test_feeders_add_up_to_customers_served():
    utility = SyntheticUtility(SyntheticConfig(seed=1, **SMALL))
    sums = utility.feeders.groupby(["region_code", "year"])["customers"].sum()
    served = load_customers_served()
    assert {k: int(v) for k, v in sums.items()} == {k: served[k] for k in sums.index}


def test_events_have_every_kind_the_indices_must_handle():
    utility = SyntheticUtility(SyntheticConfig(seed=1, **SMALL))
    ev = utility.events
    local_start = [t.tz_convert(z) for t, z in zip(ev["started_at_utc"], ev["time_zone"], strict=True)]
    local_end = [
        t.tz_convert(z) if pd.notna(t) else t for t, z in zip(ev["restored_at_utc"], ev["time_zone"], strict=True)
    ]
    spans_midnight = [pd.notna(e) and e.date() != s.date() for s, e in zip(local_start, local_end, strict=True)]
    assert (ev["duration_minutes"] <= 5).sum() > 10  # momentary
    assert sum(spans_midnight) > 0
    assert ev["is_storm"].sum() >= 2 * 3 * 2 and ev["is_open"].sum() == 2  # storms; the last event of each region
    assert ev["customers_affected"].isna().sum() > 0  # unknown customers
    feeder_customers = ev["feeder_customers"]
    assert (ev["customers_affected"].dropna() <= feeder_customers[ev["customers_affected"].notna()]).all()
    exports = utility.oms_exports
    duplicated = pd.concat(exports.values())["event_id"].duplicated().sum()
    assert duplicated > 0  # overlapping exports repeat the previous year's last week
    assert exports[2025]["expected_reason"].notna().sum() == 5


def test_cli_writes_the_same_utility_as_the_api(tmp_path, capsys):
    args = ["--seed", "3", "--years", "3", "--regions", "2", "--feeders", "4"]
    assert main(["synthetic", "--output", str(tmp_path / "cli"), *args]) == 0
    assert "interval load rows: 210,432" in capsys.readouterr().out  # 2 regions x 4 feeders x 26,304 hours
    generate_synthetic_utility(tmp_path / "api", seed=3, **SMALL)
    assert _digest(tmp_path / "cli" / "synthetic_utility") == _digest(tmp_path / "api" / "synthetic_utility")


def _mtimes(root) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _age(root, seconds: int = 3600) -> None:
    """Moves every file's modification time back, so a rewrite shows even on a file system with coarse timestamps."""
    for path in root.rglob("*.csv"):
        stamp = path.stat().st_mtime_ns - seconds * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))


def test_regenerating_leaves_identical_files_untouched_and_rewrites_changed_ones(tmp_path):
    root = tmp_path / "synthetic_utility"
    first = generate_synthetic_utility(tmp_path, seed=3, **SMALL)
    assert first.unchanged == [] and len(first.rewritten) == 2 * 3 * 2 + 3 + 2
    _age(root)
    before, digests = _mtimes(root), _digest(root)

    again = generate_synthetic_utility(tmp_path, seed=3, **SMALL)
    assert _mtimes(root) == before  # same files, no temporary left behind, no modification time moved
    assert again.rewritten == [] and len(again.unchanged) == len(before)
    assert again.interval_rows == first.interval_rows and again.oms_rows == first.oms_rows

    # Without the injected bad rows only the last year's OMS export differs: it alone is written again.
    changed = generate_synthetic_utility(tmp_path, seed=3, inject_bad_rows=False, **SMALL)
    after = _mtimes(root)
    moved = sorted(name for name in before if after[name] != before[name])
    assert moved == ["oms_outages/oms_outages_2025.csv"]
    assert changed.rewritten == [root / "oms_outages" / "oms_outages_2025.csv"]
    assert _digest(root)[moved[0]] != digests[moved[0]]
    assert set(after) == set(before)
