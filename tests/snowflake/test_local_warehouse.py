"""The load / views handlers against the local warehouse (fakesnow server on 127.0.0.1, FS+SP), on a contract export.

Expected figures come from the fixture's hand-made rows with pandas, never from the code under test.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from contract_export import (
    BATCH_1,
    BATCH_2,
    DAYS_BATCH_1,
    daily_rows,
    export_tables,
    key_of,
    write_export,
    write_incremental_export,
)
from recording_session import RecordingSession

from databricks_jobs import tables
from local_platform.warehouse import runner
from snowpark.energy_snowpark.identifiers import InvalidIdentifierError
from snowpark.energy_snowpark.load_export import LoadError, load_export
from snowpark.energy_snowpark.load_factor import load_factor, load_factor_vectorized
from snowpark.energy_snowpark.refresh import refresh
from snowpark.energy_snowpark.reporting_views import VIEWS, build_views


def counts(session) -> dict[str, int]:
    return {
        t.name: session.sql(f"SELECT COUNT(*) FROM ENERGY.CURATED.{t.name.upper()}").collect()[0][0]
        for t in tables.GOLD_TABLES
    }


def daily(session) -> pd.DataFrame:
    rows = session.sql(
        "SELECT DATE_LOCAL, ENERGY_MWH, PEAK_DEMAND_MW, HOURS_REPORTED, BATCH_ID FROM ENERGY.CURATED.GOLD_DEMAND__DAILY"
    ).collect()
    return pd.DataFrame([r.as_dict() for r in rows]).sort_values("DATE_LOCAL").reset_index(drop=True)


def test_deploy_plan_applies_again_on_a_loaded_warehouse(warehouse, export_root):
    """Idempotent (the fixture applied it once already); skips are checked in test_deploy_plan.py."""
    results = runner.apply(warehouse, str(export_root))
    ran = [r for r in results if not r.skipped_reason]
    assert any("CREATE OR ALTER STAGE" in r.statement for r in ran)
    # + LOAD_HISTORY, LOAD_LOCK, CONTRACT_VERSIONS
    assert sum("CREATE TABLE" in r.statement for r in ran) == len(tables.GOLD_TABLES) + 3


def test_udfs_run_the_handler_code_and_create_function_is_refused(wh_session):
    pairs = [(9_000.0, 12_000.0), (1.0, 3.0), (5.0, 0.0), (None, 2.0), (2.5, None)]
    values = ", ".join(f"({'NULL' if a is None else a}, {'NULL' if p is None else p})" for a, p in pairs)
    query = f"SELECT LOAD_FACTOR(a, p), LOAD_FACTOR_VECTORIZED(a, p) FROM (VALUES {values}) AS v(a, p)"
    rows = wh_session.sql(query).collect()
    expected_vectorized = load_factor_vectorized(pd.DataFrame(pairs, dtype="float64"))
    for (scalar, vectorized), (a, p), vec in zip(rows, pairs, expected_vectorized, strict=True):
        assert scalar == load_factor(a, p)
        assert (vectorized is None and pd.isna(vec)) or vectorized == pytest.approx(vec)
    with pytest.raises(Exception, match="refuses CREATE FUNCTION"):
        wh_session.sql(
            "CREATE OR REPLACE FUNCTION ENERGY.REPORTING.LOAD_FACTOR(a FLOAT, b FLOAT) RETURNS FLOAT "
            "LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $$\ndef f(a, b):\n    return a / b\n$$"
        ).collect()
    assert wh_session.sql("SELECT LOAD_FACTOR(1.0, 4.0)").collect()[0][0] == 0.25


def history(session, status: str) -> list[tuple]:
    rows = session.sql(
        f"SELECT BATCH_ID, COUNT(*) FROM ENERGY.CURATED.LOAD_HISTORY WHERE STATUS = '{status}' GROUP BY 1 ORDER BY 1"
    ).collect()
    return [tuple(r) for r in rows]


def test_load_twice_then_newer_export_never_duplicates(warehouse, wh_session, export_root):
    first = runner.load(warehouse)
    manifest = json.loads((export_root / BATCH_1 / "_manifest.json").read_text())
    expected = {t["name"]: t["row_count"] for t in manifest["tables"]}
    assert counts(wh_session) == expected
    assert first["rows_loaded"] == sum(expected.values()) and first["rows_rejected"] == 0
    assert first["files_loaded"] == len(tables.GOLD_TABLES) and first["status"] == "LOADED"

    again = runner.load(warehouse, BATCH_1)  # the loaded state already: nothing copied, nothing replaced
    assert again["status"] == "SKIPPED" and again["files_loaded"] == 0 and again["rows_loaded"] == 0
    assert counts(wh_session) == expected
    assert history(wh_session, "SKIPPED") == [(BATCH_1, len(tables.GOLD_TABLES))]

    # A newer, incremental export of overlapping days: 2021-03-01 restated, 2021-03-16 new; one row of every other
    # table restated with the same key.
    newer_days = [(dt.date(2021, 3, 1), 250_000.0, 12_100.0, 24), (dt.date(2021, 3, 16), 230_000.0, 12_600.0, 24)]
    write_incremental_export(export_root, BATCH_2, BATCH_1, export_tables(BATCH_2, newer_days))
    second = runner.load(warehouse)  # LATEST now names BATCH_2
    assert (second["mode"], second["base_batch_id"], second["rows_deleted"]) == ("incremental", BATCH_1, 0)
    assert [b["batch_id"] for b in second["batches"]] == [BATCH_2]
    got = daily(wh_session)
    union = {d[0]: d for d in DAYS_BATCH_1} | {d[0]: d for d in newer_days}
    assert got["DATE_LOCAL"].tolist() == sorted(union)
    assert got["ENERGY_MWH"].tolist() == [union[d][1] for d in sorted(union)]
    assert got.set_index("DATE_LOCAL").loc[dt.date(2021, 3, 2), "BATCH_ID"] == BATCH_1
    assert history(wh_session, "LOADED") == [(BATCH_1, len(tables.GOLD_TABLES)), (BATCH_2, len(tables.GOLD_TABLES))]


def test_latest_going_back_is_refused_unless_the_batch_is_named(warehouse, wh_session, export_root):
    runner.load(warehouse, BATCH_2)
    before = daily(wh_session)
    (export_root / "LATEST").write_text(BATCH_1 + "\n", encoding="utf-8")
    try:
        with pytest.raises(LoadError, match=f"LATEST names batch {BATCH_1}, older than batch {BATCH_2} already"):
            runner.load(warehouse)
        pd.testing.assert_frame_equal(daily(wh_session), before)
        rolled_back = runner.load(warehouse, BATCH_1)  # on purpose: BATCH_1's rows replace BATCH_2's
        assert rolled_back["status"] == "LOADED"
        energy = daily(wh_session).set_index("DATE_LOCAL")["ENERGY_MWH"]
        assert energy[dt.date(2021, 3, 1)] == DAYS_BATCH_1[0][1]
    finally:
        (export_root / "LATEST").write_text(BATCH_2 + "\n", encoding="utf-8")


def test_manifest_disagreeing_with_files_fails_and_changes_nothing(warehouse, wh_session, export_root):
    runner.load(warehouse, BATCH_1)
    before_counts, before_daily = counts(wh_session), daily(wh_session)
    bad_batch = "20261127T201500Z-00000bad"
    batch = write_export(export_root, bad_batch, export_tables(bad_batch, DAYS_BATCH_1[:2]), latest=False)
    manifest = json.loads((batch / "_manifest.json").read_text())
    # The reliability table is loaded late in the manifest order, so earlier tables were already staged.
    entry = next(t for t in manifest["tables"] if t["name"] == "gold_outages__events")
    entry["row_count"] += 1
    entry["files"][0]["row_count"] += 1
    (batch / "_manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(
        LoadError, match=r"table gold_outages__events: file gold_outages__events/part-.* has 1 rows but"
    ):
        runner.load(warehouse, bad_batch)
    assert counts(wh_session) == before_counts
    pd.testing.assert_frame_equal(daily(wh_session), before_daily)
    (failed,) = wh_session.sql(
        f"SELECT TABLE_NAME, ERROR_MESSAGE FROM ENERGY.CURATED.LOAD_HISTORY WHERE BATCH_ID = '{bad_batch}'"
    ).collect()
    assert failed[0] == "gold_outages__events" and "manifest says 2" in failed[1]
    leftovers = wh_session.sql("SHOW TABLES LIKE 'LOAD_STAGING__%' IN SCHEMA ENERGY.CURATED").collect()
    assert leftovers == []


def test_views_built_with_contract_columns_and_independent_figures(warehouse, wh_session):
    runner.load(warehouse, BATCH_1)
    report = runner.build(warehouse)
    assert report["views"] == sorted(VIEWS)
    columns = {name: [f.name for f in wh_session.table(f"ENERGY.REPORTING.{name}").schema.fields] for name in VIEWS}
    assert columns["DAILY_DEMAND"] == [
        "SOURCE_ID", "REGION_CODE", "REGION_NAME", "DATE_LOCAL", "ENERGY_MWH", "PEAK_DEMAND_MW",
        "PEAK_INTERVAL_START_LOCAL", "MIN_DEMAND_MW", "AVG_DEMAND_MW", "LOAD_FACTOR", "HOURS_REPORTED",
        "HOURS_EXPECTED", "COMPLETENESS_PCT", "IMPUTED_HOURS", "MEAN_TEMPERATURE_C", "HEATING_DEGREE_DAYS_F",
        "COOLING_DEGREE_DAYS_F",
    ]  # fmt: skip
    lf_columns = ["SOURCE_ID", "REGION_CODE", "PERIOD_START_DATE", "ENERGY_MWH", "PEAK_DEMAND_MW", "HOURS_REPORTED",
                  "AVG_DEMAND_MW", "LOAD_FACTOR"]  # fmt: skip
    assert columns["LOAD_FACTOR_WEEKLY"] == lf_columns == columns["LOAD_FACTOR_MONTHLY"]
    for view, table in (
        ("RELIABILITY_MONTHLY", tables.GOLD_RELIABILITY_MONTHLY),
        ("OUTAGE_EVENTS", tables.GOLD_OUTAGES_EVENTS),
    ):
        assert columns[view] == [c.upper() for c in table.column_names] + ["REGION_NAME"]

    # Independent figures from the curated daily rows (whatever earlier tests loaded), with pandas: Monday-start
    # weeks of local dates, load factor = energy / (peak x hours).
    frame = daily(wh_session).rename(
        columns={"DATE_LOCAL": "date", "ENERGY_MWH": "energy", "PEAK_DEMAND_MW": "peak", "HOURS_REPORTED": "hours"}
    )
    assert len(frame) >= len(DAYS_BATCH_1)
    frame["week"] = frame["date"].map(lambda d: d - dt.timedelta(days=d.weekday()))
    weekly = frame.groupby("week").agg(energy=("energy", "sum"), peak=("peak", "max"), hours=("hours", "sum"))
    got = wh_session.sql(
        "SELECT PERIOD_START_DATE, ENERGY_MWH, PEAK_DEMAND_MW, HOURS_REPORTED, LOAD_FACTOR "
        "FROM ENERGY.REPORTING.LOAD_FACTOR_WEEKLY ORDER BY 1"
    ).collect()
    assert [r[0] for r in got] == list(weekly.index)
    for row, (_, expected) in zip(got, weekly.iterrows(), strict=True):
        assert (row[1], row[2], row[3]) == (expected.energy, expected.peak, expected.hours)
        assert isinstance(row[4], float)  # never fakesnow's body-text string
        assert row[4] == pytest.approx(expected.energy / (expected.peak * expected.hours))
    (monthly,) = wh_session.sql(
        "SELECT LOAD_FACTOR, HOURS_REPORTED FROM ENERGY.REPORTING.LOAD_FACTOR_MONTHLY"
    ).collect()
    assert monthly[0] == pytest.approx(frame.energy.sum() / (frame.peak.max() * frame.hours.sum()))
    assert monthly[1] == frame.hours.sum()
    assert 23 in frame.hours.tolist()  # the 23-hour DST day (2021-03-14) counts 23 hours
    (joined,) = wh_session.sql(
        "SELECT REGION_NAME, HEATING_DEGREE_DAYS_F FROM ENERGY.REPORTING.DAILY_DEMAND WHERE DATE_LOCAL = '2021-03-01'"
    ).collect()
    assert tuple(joined) == ("ERCOT Coast weather zone (Houston)", 15.0)
    freshness = wh_session.sql(
        "SELECT TABLE_NAME, BATCH_ID, LAST_CHANGED_AT_UTC, LAST_CHECKED_AT_UTC FROM ENERGY.REPORTING.DATA_FRESHNESS"
    ).collect()
    assert len(freshness) == len(tables.GOLD_TABLES)
    assert all(row[3] >= row[2] for row in freshness)


BAD_NAMES = ["x; drop table ENERGY.CURATED.GOLD_DEMAND__DAILY", '"ENERGY"."CURATED"."EXPORT_STAGE"', 'ENERGY" --']


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_each_handler_refuses_injected_names_on_the_warehouse(wh_session, bad):
    before = counts(wh_session)
    with pytest.raises(InvalidIdentifierError):
        load_export(wh_session, bad, "LATEST", "ENERGY")
    with pytest.raises(InvalidIdentifierError):
        load_export(wh_session, "ENERGY.CURATED.EXPORT_STAGE", "LATEST", bad)
    with pytest.raises(InvalidIdentifierError):
        build_views(wh_session, bad)
    with pytest.raises(InvalidIdentifierError):
        refresh(wh_session, bad, "LATEST", "ENERGY")
    with pytest.raises(InvalidIdentifierError):
        refresh(wh_session, "ENERGY.CURATED.EXPORT_STAGE", "LATEST'; drop table x; --", "ENERGY")
    assert counts(wh_session) == before


def freshness_rows(session) -> list[tuple]:
    query = (
        "SELECT TABLE_NAME, BATCH_ID, LAST_CHANGED_AT_UTC, LAST_CHECKED_AT_UTC FROM ENERGY.REPORTING.DATA_FRESHNESS "
        "ORDER BY 1"
    )
    return [tuple(r) for r in session.sql(query).collect()]


def test_data_freshness_separates_last_checked_from_last_changed(warehouse, wh_session):
    assert runner.load(warehouse, BATCH_2)["status"] == "LOADED"
    runner.build(warehouse)
    changed = freshness_rows(wh_session)
    assert [r[0] for r in changed] == sorted(t.name for t in tables.GOLD_TABLES)
    assert all(r[1] == BATCH_2 and r[2] == r[3] for r in changed)
    assert runner.load(warehouse, BATCH_2)["status"] == "SKIPPED"
    checked = freshness_rows(wh_session)
    for before, after in zip(changed, checked, strict=True):
        assert after[:3] == before[:3]  # same batch, same last change
        assert after[3] > before[3]  # checked again since


def test_every_statement_parses_with_only_the_intended_literals(warehouse, wh_session, export_root):
    """sqlglot's Snowflake dialect reads backslash escapes as Snowflake does: if a manifest value could end or
    extend a quoted literal, the parsed literals would differ from the manifest's file names. A full batch, then an
    incremental one with deleted keys on top of it: every statement of both paths."""
    import sqlglot
    from sqlglot import exp

    full, incremental = "20261128T000000Z-0000a11e", "20261128T000100Z-0000a11f"
    write_export(export_root, full, export_tables(full), latest=False)
    daily = tables.GOLD_DEMAND_DAILY
    upserts = {"gold_demand__daily": daily_rows(incremental, DAYS_BATCH_1[:1])}
    deleted = {"gold_demand__daily": [key_of(daily, row) for row in daily_rows(full, DAYS_BATCH_1[1:3])]}
    write_incremental_export(export_root, incremental, full, upserts, deleted, latest=False)
    recording = RecordingSession(wh_session)
    reader = runner.local_stage_reader(wh_session, "ENERGY")
    assert load_export(recording, "ENERGY.CURATED.EXPORT_STAGE", full, "ENERGY", reader)["status"] == "LOADED"
    report = load_export(recording, "ENERGY.CURATED.EXPORT_STAGE", incremental, "ENERGY", reader)
    assert (report["status"], report["rows_loaded"], report["rows_deleted"]) == ("LOADED", 1, 2)
    file_names = []
    for batch in (full, incremental):
        manifest = json.loads((export_root / batch / "_manifest.json").read_text())
        for table in manifest["tables"]:
            file_names += [f["path"].rsplit("/", 1)[1] for f in table["files"] + table["deleted_keys"]["files"]]
    copied = []
    for statement in recording.statements:
        tree = sqlglot.parse_one(statement, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        literals = [literal.this for literal in tree.find_all(exp.Literal) if literal.is_string]
        if isinstance(tree, exp.Copy):  # FILES = ('<name>', ...) then the file format
            assert len(literals) >= 2 and literals[-1] == '"ENERGY"."CURATED".EXPORT_PARQUET', statement
            copied.extend(literals[:-1])
        else:  # everything else passes values as bind parameters; only status and lock names are written in the SQL
            assert set(literals) <= {"LOADED", "UNCHANGED", "SKIPPED", "LOAD_STAGING__%", "LOAD"}, statement
    assert sorted(copied) == sorted(file_names) and len(file_names) == len(tables.GOLD_TABLES) + 2
    assert any(" AS SELECT " in s and "WHERE 1 = 0" in s for s in recording.statements)  # the deleted keys' CTAS


def test_staging_tables_are_private_to_a_load_and_abandoned_ones_are_dropped(warehouse, wh_session):
    """Named with the load id (so concurrent loads never share one); a load drops its own, and those of loads that
    started over a day ago and never finished, but not those of a load that may still run."""
    now = dt.datetime.now(dt.UTC)
    abandoned = f"LOAD_STAGING__{now - dt.timedelta(days=2):%Y%m%dT%H%M%SZ}_0123456789ab__GOLD_DEMAND__DAILY"
    running = f"LOAD_STAGING__{now - dt.timedelta(hours=1):%Y%m%dT%H%M%SZ}_0123456789ab__GOLD_DEMAND__DAILY"
    for name in (abandoned, running):
        wh_session.sql(f'CREATE TABLE ENERGY.CURATED."{name}" (X INTEGER)').collect()
    recording = RecordingSession(wh_session)
    reader = runner.local_stage_reader(wh_session, "ENERGY")
    report = load_export(recording, "ENERGY.CURATED.EXPORT_STAGE", BATCH_1, "ENERGY", reader)
    created = [s for s in recording.statements if s.startswith("CREATE OR REPLACE TRANSIENT TABLE")]
    assert report["status"] == "LOADED" and len(created) == len(tables.GOLD_TABLES)
    assert all(f'"LOAD_STAGING__{report["load_id"].upper()}__' in s for s in created)
    left = {r["name"] for r in wh_session.sql("SHOW TABLES LIKE 'LOAD_STAGING__%' IN SCHEMA ENERGY.CURATED").collect()}
    assert left == {running}
    wh_session.sql(f'DROP TABLE ENERGY.CURATED."{running}"').collect()


def _implausible_export(export_root, batch: str, **daily_values) -> None:
    rows = export_tables(batch)
    rows["gold_demand__daily"][2].update(daily_values)
    write_export(export_root, batch, rows, latest=False)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"load_factor": 1.7},
            r"column load_factor: value 1.7 in file \S+/gold_demand__daily/part-\S+ is not plausible",
        ),
        ({"energy_mwh": -5.0}, r"column energy_mwh: value -5.0 in file \S+/gold_demand__daily/part-\S+ .*non-negative"),
        ({"completeness_pct": 104.2}, r"column completeness_pct: value 104.2 in file .*in \[0, 100\]"),
        ({"date_local": dt.date.today() + dt.timedelta(days=3)}, r"column date_local: value \d{4}-\d\d-\d\d in"),
        ({"date_local": dt.date(1969, 7, 20)}, r"column date_local: value 1969-07-20 in file"),
    ],
)
def test_implausible_rows_are_refused_naming_table_column_value_and_file(
    warehouse, wh_session, export_root, values, message
):
    before_counts, before_daily = counts(wh_session), daily(wh_session)
    batch = f"20261129T000000Z-{abs(hash(message)) % 16**8:08x}"
    _implausible_export(export_root, batch, **values)
    with pytest.raises(LoadError, match=f"table gold_demand__daily: {message}"):
        runner.load(warehouse, batch)
    assert counts(wh_session) == before_counts
    pd.testing.assert_frame_equal(daily(wh_session), before_daily)


# Last: stages do not survive a restart of the local warehouse (tables and views do).
def test_restart_keeps_tables_and_views_and_reregisters_the_udfs(warehouse):
    """The DuckDB files persist; the server re-registers the handler UDFs at start, so the views answer again."""
    from local_platform.warehouse import control

    runner.build(warehouse)
    query = "SELECT PERIOD_START_DATE, LOAD_FACTOR FROM ENERGY.REPORTING.LOAD_FACTOR_WEEKLY ORDER BY 1"
    with control.session(warehouse) as session:
        before = [tuple(r) for r in session.sql(query).collect()]
    control.stop(warehouse)
    assert control.running_pid(warehouse) is None
    control.start(warehouse)
    with control.session(warehouse) as session:
        assert [tuple(r) for r in session.sql(query).collect()] == before
    assert before and all(isinstance(lf, float) for _, lf in before)
