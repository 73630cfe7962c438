"""The Databricks notebooks (databricks_jobs/notebooks/): in Databricks' source format, and run cell by cell against
the local Spark + catalog with the widgets and display() of tests/lakehouse/notebook_runtime.py.

One module-scoped lake: the four layer notebooks run once, in order, on a small cut of the bundled samples (EIA-930's
original ERCOT file for 2021, whose one `MISSING` hour is quarantined) plus a small seeded synthetic utility's outage
exports (reliability with Major Event Days, injected bad rows). The exploration notebooks then run on that lake, and
what they display is checked against the raw files, Silver and Gold read directly, and pandas.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from databricks_jobs import explore, lake
from databricks_jobs.batch import new_batch_id
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_TABLES, SILVER_DEMAND_HOURLY, SILVER_OUTAGE_EVENTS, bronze_raw_rows
from tests.lakehouse.notebook_runtime import parse_notebook, render_notebook, run_notebook

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "databricks_jobs" / "notebooks"
LAYERS = ("bronze", "silver", "gold", "export")
EXPLORATIONS = (
    "explore_row_accounting_and_quarantine",
    "explore_gold_vs_silver",
    "explore_load_factor_and_peaks",
    "explore_reliability_major_event_days",
)
SOURCES = ("eia930_original", "synthetic_oms_outages")
EIA_FILE = "eia930_hourly_demand/original_eia_2020_2024/ERCO.csv"
SYNTHETIC = dict(seed=7, years=4, regions=1, feeders_per_region=8)
MED_REGION = "SYN_NORTH"


# --- format (no Spark) --------------------------------------------------------------------------------------------


def test_the_notebooks_are_the_layers_and_the_explorations():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == sorted((*LAYERS, *EXPLORATIONS, "deployed_wheel"))
    assert not list(NOTEBOOKS.glob("__init__.py")), "notebooks are not a package: they are synced, not imported"


@pytest.mark.parametrize("name", [*LAYERS, *EXPLORATIONS])
def test_notebook_is_in_databricks_source_format(name):
    """Layer and exploration notebooks; deployed_wheel (which each of them %runs) is tested on its own below."""
    text = (NOTEBOOKS / f"{name}.py").read_text()
    cells = parse_notebook(text)
    assert render_notebook(cells) == text  # exactly the exported form: nothing between or around the separators
    assert cells[0].is_markdown and cells[0].source.split("\n")[1].startswith("# MAGIC # "), "a title cell first"
    # Besides Markdown, two magics: find the deployed wheel, `%pip install` it, before the first import of the package
    # (serverless notebook tasks take no task libraries; the local runner skips both, the package being installed).
    magics = [c for c in cells if c.is_magic and not c.is_markdown]
    assert [c.source for c in magics] == ["# MAGIC %run ./deployed_wheel", "# MAGIC %pip install --quiet $wheel"]
    assert magics[0].index + 1 == magics[1].index < next(c.index for c in cells if "from databricks_jobs" in c.source)
    code = [c for c in cells if not c.is_magic]
    assert any("display(" in c.source for c in code)
    assert not any("SparkSession" in c.source for c in code), "the notebook uses the injected / active session"


def test_the_deployed_wheel_notebook_finds_the_newest_wheel_beside_the_bundle_files(tmp_path, monkeypatch):
    """Run as %run runs it: with the widget wheel_folder the notebook job gives, else relative to the calling
    notebook's folder <root>/files/notebooks, the wheels being in <root>/artifacts/.internal; on Databricks without a
    wheel it stops with what to do."""
    import os

    folder = tmp_path / "files" / "notebooks"
    wheels = tmp_path / "artifacts" / ".internal"
    folder.mkdir(parents=True)
    wheels.mkdir(parents=True)
    old, new = (wheels / f"energy_reliability_platform-0.{n}.0-py3-none-any.whl" for n in (1, 2))
    old.write_bytes(b"")
    new.write_bytes(b"")
    os.utime(old, (1, 1))
    monkeypatch.chdir(folder)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    run = run_notebook(NOTEBOOKS / "deployed_wheel.py", spark=None, widgets={})
    assert run.namespace["wheel"] == "../../artifacts/.internal/energy_reliability_platform-0.2.0-py3-none-any.whl"
    monkeypatch.chdir(tmp_path)  # the widget (as the notebook job gives it) wins over the working directory
    run = run_notebook(NOTEBOOKS / "deployed_wheel.py", spark=None, widgets={"wheel_folder": str(wheels)})
    assert run.namespace["wheel"] == str(new)
    for wheel in (old, new):
        wheel.unlink()
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    with pytest.raises(FileNotFoundError, match="databricks bundle deploy"):
        run_notebook(NOTEBOOKS / "deployed_wheel.py", spark=None, widgets={"wheel_folder": str(wheels)})


def test_the_format_check_refuses_what_databricks_would_not_import_as_exported():
    good = "# Databricks notebook source\n# MAGIC %md\n# MAGIC # T\n\n# COMMAND ----------\n\nx = 1\n"
    assert [c.source for c in parse_notebook(good)] == ["# MAGIC %md\n# MAGIC # T", "x = 1"]
    for bad in (
        good.replace("# Databricks notebook source\n", ""),  # no header: a plain .py file, not a notebook
        good.replace("\n\n# COMMAND", "\n# COMMAND"),  # separator without its blank line
        good + "\n",  # trailing blank line
        good.replace("# MAGIC # T", "# MAGIC # T\nprint(1)"),  # code inside a Markdown cell
    ):
        with pytest.raises(ValueError):
            parse_notebook(bad)


def test_stage_arguments_are_the_wheel_tasks_arguments(monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    args = explore.stage_arguments(
        {
            "catalog": "energy",
            "schema": "lakehouse",
            "raw_root": "/Volumes/energy/lakehouse/raw",
            "run_id": "123",
            "sources": "ercot_native_load, eia930_cleaned",
            "full_refresh": "True",
            "batch_id": "",
        }
    )
    assert (args.catalog, args.schema, args.raw_root, args.run_id) == (
        "energy",
        "lakehouse",
        "/Volumes/energy/lakehouse/raw",
        "123",
    )
    assert args.sources == ["ercot_native_load", "eia930_cleaned"] and args.full_refresh is True
    assert args.batch_id is None and args.export_root is None
    defaults = explore.stage_arguments(explore.STAGE_WIDGETS)
    assert defaults.sources is None and defaults.full_refresh is False and defaults.catalog is None
    with pytest.raises(ValueError, match="full_refresh"):
        explore.stage_arguments({"full_refresh": "yes"})
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    with pytest.raises(ValueError, match="catalog"):
        explore.stage_arguments({"schema": "lakehouse"})


# --- the notebooks run on a local lake ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lake_run(spark, sample_data, tmp_path_factory):
    from databricks_jobs.synthetic import generate_synthetic_utility

    root = tmp_path_factory.mktemp("notebooks")
    raw = root / "raw"
    lines = (sample_data / EIA_FILE).read_text().splitlines(keepends=True)
    (raw / EIA_FILE).parent.mkdir(parents=True)
    (raw / EIA_FILE).write_text(lines[0] + "".join(x for x in lines[1:] if x.startswith(("2021-", "2022-01-01"))))
    generate_synthetic_utility(raw, **SYNTHETIC)
    settings = LakeSettings(
        raw_root=str(raw),
        lake_root=str(root / "lake"),
        export_root=str(root / "export"),
        schema=f"notebooks_{uuid.uuid4().hex[:8]}",
    )
    lake_widgets = {"schema": settings.schema, "lake_root": settings.lake_root}
    batch_id = new_batch_id()
    stage_widgets = {
        **lake_widgets,
        "raw_root": settings.raw_root,
        "export_root": settings.export_root,
        "batch_id": batch_id,
        "sources": ",".join(SOURCES),
    }
    runs = {name: run_notebook(NOTEBOOKS / f"{name}.py", spark, stage_widgets) for name in LAYERS}
    runs["explore_row_accounting_and_quarantine"] = run_notebook(
        NOTEBOOKS / "explore_row_accounting_and_quarantine.py", spark, lake_widgets
    )
    runs["explore_gold_vs_silver"] = run_notebook(NOTEBOOKS / "explore_gold_vs_silver.py", spark, lake_widgets)
    runs["explore_load_factor_and_peaks"] = run_notebook(
        NOTEBOOKS / "explore_load_factor_and_peaks.py", spark, {**lake_widgets, "region": "ERCOT"}
    )
    runs["explore_reliability_major_event_days"] = run_notebook(
        NOTEBOOKS / "explore_reliability_major_event_days.py", spark, {**lake_widgets, "region": MED_REGION}
    )
    return {"settings": settings, "batch_id": batch_id, "runs": runs, "raw": raw, "lake_widgets": lake_widgets}


def table(spark, settings: LakeSettings, name: str) -> pd.DataFrame:
    frame = lake.read(spark, settings, name)
    assert frame is not None, f"{name} was not written"
    return frame.toPandas()


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return sorted(frame[list(columns)].itertuples(index=False, name=None))


@pytest.mark.spark
def test_layer_notebooks_run_each_stage_of_one_batch(spark, lake_run):
    settings, batch_id, runs = lake_run["settings"], lake_run["batch_id"], lake_run["runs"]
    for stage in LAYERS:
        steps = runs[stage].shown_with("stage", "summary")
        assert list(steps["stage"]) == [stage] and all(len(p) == 0 for p in steps["problems"]), steps
        assert batch_id in steps["summary"][0]
    # bronze: the files logged for this batch, as the bookkeeping table holds them, rows = Bronze rows per file
    logged = runs["bronze"].shown_with("source_file", "content_hash", "status")
    ingested = table(spark, settings, "bronze__ingested_files")
    assert rows(logged, "source_file", "status", "rows") == rows(ingested, "source_file", "status", "rows")
    assert set(logged["source_id"]) == set(SOURCES) and set(logged["status"]) == {"ingested"}
    for source_id in SOURCES:
        bronze = table(spark, settings, bronze_raw_rows(source_id).name)
        expected = bronze.groupby("source_file").size()
        mine = logged[logged["source_id"] == source_id].set_index("source_file")["rows"]
        assert mine.sort_index().tolist() == expected.sort_index().tolist()
    # silver: the quarantine of this batch by source and reason = pandas on the quarantine table
    by_reason = runs["silver"].shown_with("source_id", "reason", "row_count")
    quarantine = table(spark, settings, "silver__quarantine")
    expected = quarantine.groupby(["source_id", "reason"]).size()
    assert {(s, r): n for s, r, n in rows(by_reason, "source_id", "reason", "row_count")} == expected.to_dict()
    assert ("eia930_original", "missing_value") in expected.to_dict()
    # gold: every Gold table written, with its row count (first run: whole tables)
    results = runs["gold"].shown_with("table", "operation", "rows_written")
    assert set(results["table"]) == {t.name for t in GOLD_TABLES}
    written = dict(zip(results["table"], results["rows_written"], strict=True))
    assert written["gold_demand__daily"] == len(table(spark, settings, "gold_demand__daily")) > 300
    # export: the manifest's row counts are the Gold tables' row counts; LATEST names this batch
    manifest = runs["export"].shown_with("table", "row_count", "files")
    assert set(manifest["batch_id"]) == {batch_id}
    for name, count in zip(manifest["table"], manifest["row_count"], strict=True):
        gold = lake.read(spark, settings, name)  # a table without input (no weather source here) is exported empty
        assert count == (gold.count() if gold is not None else 0), name
    assert manifest["row_count"].sum() > 0
    assert (Path(settings.export_root) / "LATEST").read_text().strip() == batch_id


@pytest.mark.spark
def test_row_accounting_and_quarantine_against_raw_files_and_silver(spark, lake_run):
    settings, run, raw = (
        lake_run["settings"],
        lake_run["runs"]["explore_row_accounting_and_quarantine"],
        lake_run["raw"],
    )
    accounting = run.shown_with("source_id", "files", "rows_in", "is_balanced").set_index("source_id")
    quarantine = table(spark, settings, "silver__quarantine")
    kept = {
        "eia930_original": len(table(spark, settings, SILVER_DEMAND_HOURLY.name)),
        "synthetic_oms_outages": len(table(spark, settings, SILVER_OUTAGE_EVENTS.name)),
    }
    for source_id in SOURCES:
        bronze = table(spark, settings, bronze_raw_rows(source_id).name)
        figures = accounting.loc[source_id]
        assert figures["rows_in"] == len(bronze)
        assert figures["rows_kept"] == kept[source_id]
        assert figures["rows_quarantined"] == int((quarantine["source_id"] == source_id).sum())
        assert figures["files"] == bronze["source_file"].nunique()
        assert bool(figures["is_balanced"])
    assert accounting.loc["synthetic_oms_outages", "rows_quarantined"] > 0  # the injected bad rows
    # each rejected row with the raw line: the very line of the raw file at that line number
    rejected = run.shown_with("reason", "detail", "raw_line", "raw_record")
    assert len(rejected) == len(quarantine)
    for record in rejected.itertuples():
        line = (raw / record.source_file).read_text().splitlines()[record.source_row_number - 1]
        assert record.raw_line == line, record
    # narrowed by the widgets to one source and reason
    narrowed = run_notebook(
        NOTEBOOKS / "explore_row_accounting_and_quarantine.py",
        spark,
        {**lake_run["lake_widgets"], "source": "eia930_original", "reason": "missing_value"},
    ).shown_with("reason", "raw_line")
    assert len(narrowed) == 1 and narrowed["raw_line"][0].split(",")[1] == "MISSING"


@pytest.mark.spark
def test_gold_reconciles_with_silver(spark, lake_run):
    settings, run = lake_run["settings"], lake_run["runs"]["explore_gold_vs_silver"]
    demand = run.shown_with("silver_hours", "gold_hours", "is_reconciled")
    silver = table(spark, settings, "silver_demand__hourly").dropna(subset=["demand_mw"])
    gold = table(spark, settings, "gold_demand__daily")
    assert rows(demand, "source_id", "region_code") == [("eia930_original", "ERCOT")]
    assert demand["silver_hours"][0] == len(silver) == demand["gold_hours"][0] == gold["hours_reported"].sum()
    assert demand["silver_energy_mwh"][0] == pytest.approx(silver["demand_mw"].sum(), rel=1e-12)
    assert demand["gold_energy_mwh"][0] == pytest.approx(gold["energy_mwh"].sum(), rel=1e-12)
    assert demand["is_reconciled"].all()
    quarantine = run.shown_with("silver_rows", "gold_rows", "is_reconciled")
    summary = table(spark, settings, "gold_quality__quarantine_summary")
    assert len(quarantine) == len(summary) and quarantine["is_reconciled"].all()
    # the check can fail: Gold missing a day, or counting a quarantined row twice
    silver_frame, gold_frame = (
        lake.read(spark, settings, "silver_demand__hourly"),
        lake.read(spark, settings, "gold_demand__daily"),
    )
    short = explore.demand_reconciliation(silver_frame, gold_frame.orderBy("date_local").offset(1)).first()
    assert short.is_reconciled is False and short.gold_hours < short.silver_hours
    doubled = lake.read(spark, settings, "gold_quality__quarantine_summary").selectExpr(
        "source_id", "source_file", "reason", "row_count + 1 AS row_count"
    )
    checked = explore.quarantine_reconciliation(lake.read(spark, settings, "silver__quarantine"), doubled)
    assert checked.where("is_reconciled").count() == 0


@pytest.mark.spark
def test_load_factor_and_peaks_of_a_region_against_pandas(spark, lake_run):
    settings, run = lake_run["settings"], lake_run["runs"]["explore_load_factor_and_peaks"]
    load_factor = run.shown_with("load_factor", "load_factor_recomputed", "is_consistent")
    peaks = run.shown_with("hourly_max_demand_mw", "peak_interval_start_utc", "is_consistent")
    summaries = [f for f in run.displayed if list(f.columns) == ["rows", "consistent", "inconsistent"]]
    assert [(s["rows"][0], s["inconsistent"][0]) for s in summaries] == [(len(load_factor), 0), (len(peaks), 0)]
    assert load_factor["is_consistent"].all() and peaks["is_consistent"].all()
    # independent: Silver's hourly demand on Central time calendar days
    silver = table(spark, settings, "silver_demand__hourly").dropna(subset=["demand_mw"])
    local = pd.to_datetime(silver["interval_start_utc"]).dt.tz_localize("UTC").dt.tz_convert("America/Chicago")
    by_day = silver.assign(date_local=local.dt.date).groupby("date_local")["demand_mw"]
    expected = pd.DataFrame({"peak": by_day.max(), "load_factor": by_day.mean() / by_day.max(), "hours": by_day.size()})
    mine = load_factor.set_index("date_local").sort_index()
    assert list(mine.index) == list(expected.index) and len(mine) > 360
    assert mine["peak_demand_mw"].tolist() == expected["peak"].tolist()
    assert mine["load_factor"].tolist() == pytest.approx(expected["load_factor"].tolist(), rel=1e-12)
    assert mine["hours_reported"].tolist() == expected["hours"].tolist()
    assert peaks["peak_demand_mw"].iloc[0] == expected["peak"].max()  # highest first
    # the check can fail: a load factor that is not avg / peak
    daily = (
        lake.read(spark, settings, "gold_demand__daily").selectExpr("*", "load_factor * 0.9 AS lf").drop("load_factor")
    )
    tampered = explore.load_factor_checks(daily.withColumnRenamed("lf", "load_factor"), "ERCOT")
    assert explore.check_summary(tampered).first().inconsistent == len(mine)


@pytest.mark.spark
def test_reliability_with_and_without_major_event_days_against_the_daily_table(spark, lake_run):
    settings, run = lake_run["settings"], lake_run["runs"]["explore_reliability_major_event_days"]
    years = run.shown_with("year", "saidi_w_major_event_days_minutes", "med_threshold_max_saidi_minutes")
    days = run.shown_with("date_local", "saidi_minutes", "med_threshold_saidi_minutes")
    daily = table(spark, settings, "gold_reliability__daily")
    daily = daily[daily["region_code"] == MED_REGION].assign(year=lambda d: pd.to_datetime(d["date_local"]).dt.year)
    yearly = table(spark, settings, "gold_reliability__yearly")
    yearly = yearly[yearly["region_code"] == MED_REGION]
    assert sorted(years["year"]) == sorted(yearly["year"]) and len(years) == SYNTHETIC["years"]
    meds = daily[daily["is_major_event_day"]]
    assert len(meds) > 0, "the synthetic utility's seed gives Major Event Days to check"
    assert rows(days, "date_local", "saidi_minutes") == rows(meds, "date_local", "saidi_minutes")
    assert (days["saidi_minutes"] > days["med_threshold_saidi_minutes"]).all()
    for year in years.itertuples():
        in_year = daily[daily["year"] == year.year]
        assert year.major_event_days == year.major_event_days_daily == int(in_year["is_major_event_day"].sum())
        thresholds = in_year["med_threshold_saidi_minutes"].dropna()
        if thresholds.empty:
            assert pd.isna(year.med_threshold_max_saidi_minutes)
        else:
            assert year.med_threshold_max_saidi_minutes == thresholds.max()
            assert year.med_threshold_min_saidi_minutes == thresholds.min()
        # SAIDI adds over days of one year (one customers-served count): with MED = all days, without = the rest
        assert year.saidi_w_major_event_days_minutes == pytest.approx(in_year["saidi_minutes"].sum(), rel=1e-9)
        without = in_year.loc[~in_year["is_major_event_day"], "saidi_minutes"].sum()
        assert year.saidi_wo_major_event_days_minutes == pytest.approx(without, rel=1e-9)
        assert year.saidi_on_major_event_days_minutes == pytest.approx(
            in_year.loc[in_year["is_major_event_day"], "saidi_minutes"].sum(), rel=1e-9, abs=1e-9
        )
    assert years["med_threshold_max_saidi_minutes"].notna().any(), "a threshold in force in the later years"


@pytest.mark.spark
def test_rejected_rows_show_the_line_of_the_file_version_silver_processed(spark):
    quarantine = spark.createDataFrame(
        [("s", "f.csv", 3, "", "missing_value", "demand has no value", '{"d":"MISSING"}', "b2")],
        "source_id string, source_file string, source_row_number bigint, source_column string, reason string, "
        "detail string, raw_record string, batch_id string",
    )
    processed = spark.createDataFrame(
        [("s", "f.csv", "h1", "b1", 1), ("s", "f.csv", "h2", "b2", 2)],
        "source_id string, source_file string, content_hash string, batch_id string, processed_at_utc int",
    )
    raw = spark.createDataFrame(
        [("s", "f.csv", "h1", 3, "old,line"), ("s", "f.csv", "h2", 3, "x,MISSING"), ("s", "f.csv", "h2", 4, "y,1")],
        "source_id string, source_file string, content_hash string, source_row_number bigint, raw_line string",
    )
    (row,) = explore.rejected_rows(quarantine, processed, raw).collect()
    assert (row.source_row_number, row.reason, row.raw_line) == (3, "missing_value", "x,MISSING")
    assert explore.rejected_rows(quarantine, processed, raw, reason="negative_demand").count() == 0
    assert explore.rejected_rows(quarantine, processed, None).first().raw_line is None  # no Bronze table yet
