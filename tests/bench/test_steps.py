"""bench.steps times a layer's steps by wrapping the project's functions: every module that imported a step sees the
wrapper, each call is recorded with its thread and table, and the wrapped function still returns what it returned."""

from __future__ import annotations

import threading

import databricks_jobs.silver.build as build
import databricks_jobs.tables as tables
from bench.steps import Recorder, table_of


def test_a_wrapped_step_records_each_call_wherever_it_was_imported(monkeypatch):
    # Registered so the wrappers are undone after the test, in both modules that hold the function.
    monkeypatch.setattr(tables, "silver_staging", tables.silver_staging)
    monkeypatch.setattr(build, "silver_staging", build.silver_staging)
    recorder = Recorder()
    recorder.wrap("databricks_jobs.tables", "silver_staging")

    assert build.silver_staging("silver_demand__hourly", "candidates") == (
        "staging_silver__silver_demand__hourly__candidates"
    )
    worker = threading.Thread(target=tables.silver_staging, args=("silver__quarantine", "duplicate_keys"), name="w1")
    worker.start()
    worker.join()

    calls = sorted(recorder.calls, key=lambda c: c.started)
    assert [(c.thread, c.step, c.table) for c in calls] == [
        ("MainThread", "tables.silver_staging", "silver_demand__hourly"),
        ("w1", "tables.silver_staging", "silver__quarantine"),
    ]
    assert all(c.seconds >= 0 and c.started >= 0 for c in calls)
    recorder.restart()
    assert recorder.calls == []


def test_the_table_of_a_step_is_read_from_a_builder_a_contract_or_a_name():
    assert table_of((object(), tables.SILVER_QUARANTINE)) == "silver__quarantine"
    assert table_of(("spark", "settings", "staging_gold__shared__reliability_daily")) == (
        "staging_gold__shared__reliability_daily"
    )

    class Builder:
        table = tables.SILVER_DEMAND_HOURLY

    class ExportPlan:
        contract = tables.SILVER_WEATHER_HOURLY

    assert table_of((None, Builder())) == "silver_demand__hourly"
    assert table_of((ExportPlan(),)) == "silver_weather__hourly"
    assert table_of(("not a table", 3)) == ""
    assert table_of(("spark", "/x/export/20261207T000000Z/gold_demand__daily", True)) == "gold_demand__daily"

    class Source:
        source_id = "ercot_native_load"

    assert table_of((Source(), "bronze_ercot_native_load__raw_rows")) == "bronze_ercot_native_load__raw_rows"
    assert table_of((None, Source())) == "ercot_native_load"
