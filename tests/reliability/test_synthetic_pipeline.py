"""The synthetic utility through Bronze, the outage transform and Gold equals a pandas computation on its ground truth.

The expected figures are computed here from `SyntheticUtility(config).events` (the generator's exact events, before
they are written to CSV with duplicates and bad rows) with pandas and the statistics module only.
"""

from __future__ import annotations

import json
import math
import statistics

import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.settings import LakeSettings
from databricks_jobs.synthetic import SyntheticConfig, SyntheticUtility, generate_synthetic_utility
from databricks_jobs.synthetic.model import bad_oms_rows
from databricks_jobs.tables import SILVER_OUTAGE_EVENTS

pytestmark = pytest.mark.spark


SETTINGS = dict(seed=7, years=6, regions=2, feeders_per_region=10)
CEMI_N = 3


@pytest.fixture(scope="module")
def utility() -> SyntheticUtility:
    return SyntheticUtility(SyntheticConfig(**SETTINGS))


RELIABILITY_TABLES = [
    "gold_reliability__daily",
    "gold_reliability__monthly",
    "gold_reliability__yearly",
    "gold_outages__events",
]


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory):
    """Raw files -> Bronze -> Silver (the real build: quarantine, duplicate merge, MERGE) -> the reliability Gold."""
    from databricks_jobs.gold.runner import build_gold
    from databricks_jobs.silver.build import build_silver

    raw = tmp_path_factory.mktemp("synthetic-raw")
    summary = generate_synthetic_utility(raw, **SETTINGS)
    settings = LakeSettings(raw_root=str(raw), lake_root=str(raw / "lake"), export_root=str(raw / "export"))
    report = ingest_bronze(spark, settings, "b-syn", source_ids=["synthetic_oms_outages"])
    assert not report.failed, report.summary()
    silver_report = build_silver(spark, settings, "b-syn", ["synthetic_oms_outages"])
    again = build_silver(spark, settings, "b-syn-2", ["synthetic_oms_outages"])  # nothing new: writes nothing
    build_gold(spark, settings, "b-syn", tables=RELIABILITY_TABLES, log=lambda _: None)
    read = lambda name: lake.read(spark, settings, name)  # noqa: E731
    return {
        "summary": summary,
        "silver_report": silver_report,
        "rerun_files": len(again.files),
        "quarantine": read("silver__quarantine").select("source_row_number", "raw_record", "reason").toPandas(),
        "silver_rows": read(SILVER_OUTAGE_EVENTS.name).count(),
        "daily": read("gold_reliability__daily").toPandas(),
        "monthly": read("gold_reliability__monthly").toPandas(),
        "yearly": read("gold_reliability__yearly").toPandas(),
        "events": read("gold_outages__events").count(),
    }


def expected_reliability(utility: SyntheticUtility) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily with MED flags, yearly indices) straight from the ground-truth events."""
    ev = utility.events.copy()
    ev["date_local"] = [ts.tz_convert(tz).date() for ts, tz in zip(ev["started_at_utc"], ev["time_zone"], strict=True)]
    ev["year"] = [d.year for d in ev["date_local"]]
    closed, known = ~ev["is_open"], ev["customers_affected"].notna()
    momentary = ev["duration_minutes"] <= 5
    ev["ci"] = ev["customers_affected"].where(closed & ~momentary & known, 0).astype(float)
    ev["cmi"] = ev["ci"] * ev["duration_minutes"].fillna(0)
    ev["mci"] = ev["customers_affected"].where(closed & momentary & known, 0).astype(float)
    served = utility.customers_served.set_index(["region_code", "year"])["customers_served"]

    days = []
    for region in utility.config.region_codes:
        for year in utility.config.year_list:
            for day in pd.date_range(f"{year}-01-01", f"{year}-12-31").date:
                days.append((region, day, year))
    daily = pd.DataFrame(days, columns=["region_code", "date_local", "year"])
    sums = ev.groupby(["region_code", "date_local"])[["ci", "cmi", "mci"]].sum().reset_index()
    daily = daily.merge(sums, on=["region_code", "date_local"], how="left").fillna({"ci": 0, "cmi": 0, "mci": 0})
    daily["n_t"] = [served[(r, y)] for r, y in zip(daily["region_code"], daily["year"], strict=True)]
    daily["saidi"] = daily["cmi"] / daily["n_t"]

    thresholds = {}
    for region in utility.config.region_codes:
        for year in utility.config.year_list:
            history = daily[(daily.region_code == region) & daily.year.between(year - 5, year - 1) & (daily.saidi > 0)]
            logs = [math.log(v) for v in history["saidi"]]
            thresholds[(region, year)] = (
                math.exp(statistics.fmean(logs) + 2.5 * statistics.stdev(logs)) if len(logs) >= 2 else math.inf
            )
    daily["threshold"] = [thresholds[(r, y)] for r, y in zip(daily["region_code"], daily["year"], strict=True)]
    daily["is_med"] = daily["saidi"] > daily["threshold"]

    med_days = set(zip(daily.loc[daily.is_med, "region_code"], daily.loc[daily.is_med, "date_local"], strict=True))
    ev["is_med"] = [(r, d) in med_days for r, d in zip(ev["region_code"], ev["date_local"], strict=True)]
    rows = []
    for (region, year), group in daily.groupby(["region_code", "year"]):
        n_t = served[(region, year)]
        wo = group[~group.is_med]
        year_events = ev[(ev.region_code == region) & (ev.year == year) & (ev.ci > 0)]

        def cemi(events: pd.DataFrame, n_t: int = n_t) -> float:
            nth = events.groupby("feeder_id")["ci"].apply(
                lambda c: sorted(c, reverse=True)[CEMI_N] if len(c) > CEMI_N else 0
            )
            return 100 * nth.sum() / n_t

        rows.append(
            {
                "region_code": region,
                "year": year,
                "saidi_w": group.cmi.sum() / n_t,
                "saifi_w": group.ci.sum() / n_t,
                "maifi_w": group.mci.sum() / n_t,
                "saidi_wo": wo.cmi.sum() / n_t,
                "saifi_wo": wo.ci.sum() / n_t,
                "maifi_wo": wo.mci.sum() / n_t,
                "cemi_w": cemi(year_events),
                "cemi_wo": cemi(year_events[~year_events.is_med]),
                "med_days": int(group.is_med.sum()),
            }
        )
    return daily, pd.DataFrame(rows)


def test_rows_reconcile_and_quarantine_names_each_bad_row(pipeline, utility):
    summary, files = pipeline["summary"], pipeline["silver_report"].files
    assert sum(f.rows_in for f in files) == summary.oms_rows
    assert sum(f.rows_quarantined for f in files) == summary.bad_oms_rows
    assert sum(f.rows_exact_duplicate for f in files) == summary.duplicate_oms_rows > 0  # overlap merged once
    assert sum(f.rows_kept for f in files) == pipeline["silver_rows"] == len(utility.events) == pipeline["events"]
    expected = bad_oms_rows(utility.config)
    quarantine = pipeline["quarantine"]
    got = {
        json.loads(raw)["event_id"]: reason
        for raw, reason in zip(quarantine.raw_record, quarantine.reason, strict=True)
    }
    assert got == dict(zip(expected["event_id"], expected["expected_reason"], strict=True))
    assert pipeline["rerun_files"] == 0


def test_daily_saidi_and_major_event_days_match_pandas(pipeline, utility):
    expected_daily, _ = expected_reliability(utility)
    got = pipeline["daily"].sort_values(["region_code", "date_local"], ignore_index=True)
    expected_daily = expected_daily.sort_values(["region_code", "date_local"], ignore_index=True)
    assert len(got) == len(expected_daily)
    assert got["saidi_minutes"].tolist() == pytest.approx(expected_daily["saidi"].tolist(), rel=1e-9, abs=1e-12)
    assert got["is_major_event_day"].tolist() == expected_daily["is_med"].tolist()
    assert expected_daily["is_med"].sum() > 0  # storms made Major Event Days
    last_year = utility.config.last_year
    assert not got.loc[pd.to_datetime(got.date_local).dt.year == last_year, "is_med_threshold_provisional"].any()


def test_yearly_indices_match_pandas(pipeline, utility):
    _, expected = expected_reliability(utility)
    got = pipeline["yearly"].sort_values(["region_code", "year"], ignore_index=True)
    expected = expected.sort_values(["region_code", "year"], ignore_index=True)
    assert got[["region_code", "year"]].values.tolist() == expected[["region_code", "year"]].values.tolist()
    pairs = {
        "saidi_w_major_event_days_minutes": "saidi_w",
        "saifi_w_major_event_days": "saifi_w",
        "maifi_w_major_event_days": "maifi_w",
        "saidi_wo_major_event_days_minutes": "saidi_wo",
        "saifi_wo_major_event_days": "saifi_wo",
        "maifi_wo_major_event_days": "maifi_wo",
        "cemi_w_major_event_days_pct": "cemi_w",
        "cemi_wo_major_event_days_pct": "cemi_wo",
    }
    for column, reference in pairs.items():
        assert got[column].tolist() == pytest.approx(expected[reference].tolist(), rel=1e-9), column
    assert got["major_event_days"].tolist() == expected["med_days"].tolist()
    assert (got["cemi_n"] == CEMI_N).all()
    # Storm days are Major Event Days: removing them lowers SAIDI in the years with a threshold.
    assert (got["saidi_wo_major_event_days_minutes"] <= got["saidi_w_major_event_days_minutes"]).all()


def test_caidi_is_saidi_over_saifi_in_every_row(pipeline):
    for table in ("monthly", "yearly"):
        rows = pipeline[table]
        for med in ("w", "wo"):
            saifi, saidi = rows[f"saifi_{med}_major_event_days"], rows[f"saidi_{med}_major_event_days_minutes"]
            caidi = rows[f"caidi_{med}_major_event_days_minutes"]
            assert caidi[saifi > 0].tolist() == pytest.approx((saidi / saifi)[saifi > 0].tolist(), rel=1e-12)
            assert caidi[saifi == 0].isna().all()


def test_months_add_up_to_years(pipeline):
    monthly = pipeline["monthly"].assign(year=lambda m: pd.to_datetime(m["month_start_date"]).dt.year)
    summed = monthly.groupby(["region_code", "year"]).agg(
        saidi=("saidi_wo_major_event_days_minutes", "sum"),
        saifi=("saifi_w_major_event_days", "sum"),
        hours=("period_hours", "sum"),
        med_days=("major_event_days", "sum"),
    )
    yearly = pipeline["yearly"].set_index(["region_code", "year"]).loc[summed.index]
    assert summed["saidi"].tolist() == pytest.approx(yearly["saidi_wo_major_event_days_minutes"].tolist(), rel=1e-9)
    assert summed["saifi"].tolist() == pytest.approx(yearly["saifi_w_major_event_days"].tolist(), rel=1e-9)
    assert summed["hours"].tolist() == yearly["period_hours"].tolist()
    assert set(yearly["period_hours"]) == {8760, 8784}
    assert summed["med_days"].tolist() == yearly["major_event_days"].tolist()
