"""What lands in the export cannot roll the warehouse back, lock it out, or load what the contract does not say
(issue 24, section 2), and loads cannot interleave (issue 20, section 3).

Unit checks run on the manifest and on real Parquet files written here; the rest load on the local warehouse
(fakesnow server), each test in a database of its own, and check CURATED is unchanged after every refusal.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract_export import ARROW_TYPES, daily_rows, export_tables, generic_row, write_export
from contract_export import write_incremental_export as write_incremental
from recording_session import RecordingSession
from test_incremental_load import assert_same_tables, curated, history

from databricks_jobs import tables
from local_platform.warehouse import runner
from local_platform.warehouse.control import session
from snowpark.energy_snowpark import load_export as loader
from snowpark.energy_snowpark.identifiers import InvalidIdentifierError, validate_batch_id
from snowpark.energy_snowpark.load_manifest import MAX_FILES_PER_BATCH, LoadError, parse_manifest
from snowpark.energy_snowpark.parquet_schema import SchemaMismatchError, check_schemas

A, B, C, D = (f"2026110{day}T060000Z-0000000{day}" for day in range(1, 5))
DAILY, EVENTS = tables.GOLD_DEMAND_DAILY, tables.GOLD_OUTAGES_EVENTS
NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


# --- batch ids --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch_id", "message"),
    [
        ("99999999T999999Z-00000000", "not a UTC time"),  # the stamp that locked the daily task out
        ("20261399T000000Z-00000000", "not a UTC time"),  # month 13
        ("\u0662\u0660\u0662\u0666\u0661\u0662\u0660\u0663T000000Z-00000000", "ASCII"),  # Arabic-Indic digits
        ("20261205T080001Z-00000000", "more than a day after now"),  # now + 2 days
        ("２0261201T000000Z-00000000", "ASCII"),  # a full-width digit
    ],
)
def test_batch_ids_must_be_ascii_real_and_not_in_the_future(batch_id, message):
    with pytest.raises(InvalidIdentifierError, match=message):
        validate_batch_id(batch_id, NOW)


def test_a_batch_id_up_to_a_day_ahead_is_accepted():
    assert validate_batch_id("20261204T075959Z-0badc0de", NOW) == "20261204T075959Z-0badc0de"
    assert validate_batch_id("latest", NOW) == "LATEST"


# --- the manifest: full batches, file cap -----------------------------------------------------------------------


def _entry(table: tables.TableContract, files: int = 1, rows_per_file: int = 0) -> dict[str, Any]:
    return {
        "name": table.name,
        "row_count": files * rows_per_file,
        "primary_key": list(table.primary_key),
        "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in table.columns],
        "files": [{"path": f"{table.name}/part-{n:05d}.parquet", "row_count": rows_per_file} for n in range(files)],
        "deleted_keys": {"row_count": 0, "files": []},
    }


def _manifest(entries: list[dict[str, Any]], mode: str = "full", base: str | None = None) -> str:
    return json.dumps(
        {
            "manifest_version": 2,
            "batch_id": B,
            "format": "parquet",
            "mode": mode,
            "base_batch_id": base,
            "tables": entries,
        }  # fmt: skip
    )


def test_a_full_batch_must_list_every_contract_table():
    one_table = _manifest([_entry(DAILY, rows_per_file=3)])
    with pytest.raises(LoadError, match=r"a full batch lists every table .* missing \['gold_demand__hourly_profile'"):
        parse_manifest(one_table, B)


def test_a_full_batch_table_without_files_is_refused():
    entries = [_entry(t) for t in tables.GOLD_TABLES]
    entries[1] = {**entries[1], "files": []}
    with pytest.raises(LoadError, match=rf"full-batch tables \['{entries[1]['name']}'\] list no file"):
        parse_manifest(_manifest(entries), B)
    assert len(parse_manifest(_manifest([_entry(t) for t in tables.GOLD_TABLES]), B).tables) == 12


def test_an_incremental_batch_may_list_some_tables_only():
    assert parse_manifest(_manifest([_entry(DAILY, rows_per_file=2)], "incremental", A), B).tables[0].row_count == 2


def test_a_forged_base_batch_id_is_refused():
    entries = [_entry(DAILY, rows_per_file=2)]
    with pytest.raises(LoadError, match="base_batch_id: invalid batch id '20251399T000000Z-00000000'"):
        parse_manifest(_manifest(entries, "incremental", "20251399T000000Z-00000000"), B)


def test_more_files_than_the_cap_are_refused_before_parsing_in_bounded_time():
    entries = [_entry(t) for t in tables.GOLD_TABLES]
    entries[0] = _entry(DAILY, files=200_000)  # 200,000 file entries: ~15 MB of JSON
    text = _manifest(entries)
    started = time.perf_counter()
    with pytest.raises(LoadError, match=f"lists 200011 files, more than the {MAX_FILES_PER_BATCH}"):
        parse_manifest(text, B)
    assert time.perf_counter() - started < 5


def test_a_tables_files_are_copied_in_one_statement_per_thousand_files():
    names = [f"part-{n:05d}.parquet" for n in range(2500)]
    statements = loader.copy_statements('"DB"', '"DB"."CURATED"."ST"', B, "t", names, True, "STAGING")
    assert [s.count(".parquet'") for s in statements] == [1000, 1000, 500]
    assert all("INCLUDE_METADATA = (LOAD_FILE__ = METADATA$FILENAME)" in s for s in statements)
    assert all("MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" in s for s in statements)
    assert "INCLUDE_METADATA" not in loader.copy_statements('"DB"', '"S"', B, "t", names[:1], False, "X")[0]


# --- LATEST read by its exact name -------------------------------------------------------------------------------


class _StageRows:
    """Stands in for Snowflake's answer to `SELECT METADATA$FILENAME, $1 FROM @stage/LATEST` (fakesnow cannot
    SELECT from a stage): the rows of every file whose path starts with the name, as Snowflake returns them."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.rows, self.statements = rows, []

    def sql(self, query: str, params=None):
        self.statements.append(query)
        return self

    def collect(self):
        return self.rows


def test_latest_is_read_by_its_exact_file_name_and_must_be_one_record():
    session = _StageRows([("LATEST", C), ("LATEST.tmp", "99999999T999999Z-00000000")])
    read = loader.stage_sql_reader(session, '"DB"."CURATED"."ST"', '"DB"')
    assert read("LATEST") == C  # the other file's record is not read
    assert "METADATA$FILENAME" in session.statements[0]
    session.rows = [("LATEST_old", A)]
    with pytest.raises(LoadError, match=r"LATEST: expected exactly one record, found no such file .*\['LATEST_old'\]"):
        read("LATEST")
    session.rows = [("LATEST", A), ("LATEST", C)]
    with pytest.raises(LoadError, match="LATEST: expected exactly one record, found 2 records"):
        read("LATEST")


# --- Parquet schema against the contract -------------------------------------------------------------------------


def _parquet(path: Path, fields: dict[str, pa.DataType], row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([pa.field(name, kind) for name, kind in fields.items()])
    pq.write_table(pa.Table.from_pylist([{k: row.get(k) for k in fields}], schema=schema), path)


def _daily_fields() -> dict[str, pa.DataType]:
    return {c.name: ARROW_TYPES[c.type] for c in DAILY.columns}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.pop("energy_mwh"), "column energy_mwh: expected REAL, missing"),
        (lambda f: f.update(extra_column=pa.string()), r"column extra_column: not in the contract \(found TEXT\)"),
        (lambda f: f.update(LOAD_FILE__=pa.string()), r"column LOAD_FILE__: not in the contract"),
        (lambda f: f.update(date_local=pa.timestamp("us")), "column date_local: expected DATE, found TIMESTAMP_NTZ"),
        (
            lambda f: f.update(hours_reported=pa.float64()),
            r"column hours_reported: expected NUMBER\(p, 0\), found REAL",
        ),
        (lambda f: f.update(energy_mwh=pa.string()), "column energy_mwh: expected REAL, found TEXT"),
        (
            lambda f: f.update(peak_interval_start_utc=pa.timestamp("us", tz="UTC")),
            "column peak_interval_start_utc: expected TIMESTAMP_NTZ, found TIMESTAMP_LTZ",
        ),
        (
            lambda f: f.update(hours_reported=pa.decimal128(10, 2)),
            r"column hours_reported: expected NUMBER\(p, 0\), found NUMBER\(10, 2\)",
        ),
        (lambda f: f.update(ENERGY_MWH=f.pop("energy_mwh")), "column ENERGY_MWH: not in the contract"),
    ],
)
def test_a_file_whose_schema_differs_from_the_contract_is_refused_naming_file_column_and_types(
    tmp_path, change, message
):
    fields = _daily_fields()
    change(fields)
    folder = tmp_path / B / DAILY.name
    _parquet(folder / "part-00001.parquet", _daily_fields(), {})  # a good file beside the bad one
    _parquet(folder / "part-00002.parquet", fields, {})
    stage = runner.LocalStage(tmp_path, "@STAGE")
    expected = {c.name: c.type for c in DAILY.columns}
    names = ["part-00001.parquet", "part-00002.parquet"]
    with pytest.raises(SchemaMismatchError, match=f"table gold_demand__daily: .*file part-00002.parquet: {message}"):
        check_schemas(stage.schemas, B, DAILY.name, DAILY.name, names, expected)
    check_schemas(stage.schemas, B, DAILY.name, DAILY.name, names[:1], expected)  # the good file passes


def test_a_file_that_is_not_parquet_is_refused_naming_it(tmp_path):
    folder = tmp_path / B / DAILY.name
    folder.mkdir(parents=True)
    (folder / "part-00001.parquet").write_text("not parquet")
    stage = runner.LocalStage(tmp_path, "@STAGE")
    with pytest.raises(SchemaMismatchError, match="file part-00001.parquet: no schema could be read"):
        check_schemas(stage.schemas, B, DAILY.name, DAILY.name, ["part-00001.parquet"], {"x": "string"})


# --- on the local warehouse --------------------------------------------------------------------------------------


def test_an_incremental_chain_through_an_older_full_batch_is_refused(database):
    """Full A, then full C loaded; incremental D with base A is LATEST: following its chain would reload A."""
    settings, export = database
    write_export(export, A, export_tables(A))
    write_export(export, C, export_tables(C, [(dt.date(2021, 3, 20), 200_000.0, 10_000.0, 24)]))
    runner.load(settings)  # LATEST = C, a full batch: loads C only
    before = curated(settings)
    write_incremental(export, D, A, {})  # no change at all, on top of A
    with pytest.raises(LoadError, match=f"would go through batch {A}, older than batch {C} already loaded"):
        runner.load(settings)
    assert_same_tables(curated(settings), before)
    assert sorted(before[DAILY.name]["date_local"]) == [dt.date(2021, 3, 20)]


def test_a_forged_future_batch_in_the_history_does_not_lock_later_loads_out(database):
    """A LOADED row of batch 99999999T999999Z-… (written before ids were checked) is not "the newest": the last
    LOADED row is; so LATEST naming a real, newer batch loads."""
    settings, export = database
    write_export(export, A, export_tables(A))
    runner.load(settings)
    with session(settings) as s:
        s.sql(
            f"INSERT INTO {settings.database}.CURATED.LOAD_HISTORY (LOAD_ID, BATCH_ID, TABLE_NAME, STATUS, "
            "FILES_LOADED, ROWS_IN_MANIFEST, ROWS_LOADED, ROWS_REJECTED, ROWS_REPLACED, LOADED_AT_UTC) VALUES "
            "('forged', '99999999T999999Z-00000000', 'gold_demand__daily', 'LOADED', 0, 0, 0, 0, 0, ?)",
            params=[dt.datetime(2026, 1, 1)],
        ).collect()
    write_export(export, B, export_tables(B))
    assert runner.load(settings)["batch_id"] == B


def test_latest_naming_an_impossible_batch_id_is_refused_and_changes_nothing(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    runner.load(settings)
    before = curated(settings)
    (export / "LATEST").write_text("99999999T999999Z-00000000\n")
    with pytest.raises(InvalidIdentifierError, match="not a UTC time"):
        runner.load(settings)
    assert_same_tables(curated(settings), before)


def test_a_file_with_a_string_in_a_double_column_is_refused_before_copy(database):
    settings, export = database
    batch = write_export(export, A, export_tables(A))
    part = next((batch / DAILY.name).glob("part-*.parquet"))
    frame = pq.read_table(part)
    index = frame.schema.get_field_index("energy_mwh")
    frame = frame.set_column(index, "energy_mwh", pa.array([str(v) for v in frame["energy_mwh"].to_pylist()]))
    pq.write_table(frame, part)
    with session(settings) as s:
        recording = RecordingSession(s)
        with pytest.raises(
            SchemaMismatchError, match=f"file {part.name}: column energy_mwh: expected REAL, found TEXT"
        ):
            loader.load_export(
                recording,
                runner.stage_name(settings),
                "LATEST",
                settings.database,
                runner.local_stage_reader(s, settings.database),
            )
    assert not any(f"{DAILY.name.upper()}" in q and q.startswith("COPY") for q in recording.statements)
    assert all(frame.empty for frame in curated(settings).values())


def _with(table: tables.TableContract, **values: Any) -> list[dict[str, Any]]:
    return [generic_row(table, batch_id=A, **values)]


@pytest.mark.parametrize(
    ("table", "rows", "column", "value"),
    [
        (DAILY.name, daily_rows(A, [(dt.date(2021, 3, 1), math.nan, 12_000.0, 24)]), "energy_mwh", "(?i:nan)"),
        (DAILY.name, daily_rows(A, [(dt.date(2021, 3, 1), 240_000.0, math.inf, 24)]), "peak_demand_mw", "(?i:inf)"),
        (DAILY.name, daily_rows(A, [(dt.date(2021, 3, 1), 240_000.0, -5.0, 24)]), "peak_demand_mw", "-5"),
        ("gold_demand__hourly_profile", _with(tables.GOLD_DEMAND_HOURLY_PROFILE, hour_local=77), "hour_local", "77"),
        ("gold_demand__hourly_profile", _with(tables.GOLD_DEMAND_HOURLY_PROFILE, month=99), "month", "99"),
        ("gold_reliability__yearly", _with(tables.GOLD_RELIABILITY_YEARLY, year=9999), "year", "9999"),
        (
            "gold_reliability__monthly",
            _with(tables.GOLD_RELIABILITY_MONTHLY, asai_w_major_event_days_pct=1e6),
            "asai_w_major_event_days_pct",
            "1",
        ),
        (
            "gold_weather__daily_degree_days",
            _with(tables.GOLD_WEATHER_DAILY_DEGREE_DAYS, mean_temperature_c=1e308),
            "mean_temperature_c",
            "1",
        ),
        ("gold_reliability__daily", _with(tables.GOLD_RELIABILITY_DAILY, saidi_minutes=-1.0), "saidi_minutes", "-1"),
        (
            EVENTS.name,
            _with(EVENTS, started_at_utc=dt.datetime(2021, 3, 1, 6), restored_at_utc=dt.datetime(2021, 3, 1, 5)),
            "restored_at_utc",
            "2021-03-01 05:00:00",
        ),
    ],
)
def test_implausible_numbers_are_refused_naming_table_column_value_and_file(database, table, rows, column, value):
    settings, export = database
    tables_rows = export_tables(A)
    tables_rows[table] = rows
    write_export(export, A, tables_rows)
    with pytest.raises(LoadError, match=rf"table {table}: column {column}: value {value}.* in file {A}/{table}/part-"):
        runner.load(settings)
    assert all(frame.empty for frame in curated(settings).values())


class _MeetAtBegin(RecordingSession):
    """Both loads have staged their batch and read the state before either starts its transaction."""

    def __init__(self, wrapped, barrier: threading.Barrier) -> None:
        super().__init__(wrapped)
        self._barrier = barrier

    def sql(self, query: str, params=None):
        if query == "BEGIN TRANSACTION":
            self._barrier.wait(timeout=120)
        return super().sql(query, params)


def test_two_loads_at_once_never_both_apply_on_one_base(database):
    """CURATED at A; B1 and B2 are both incremental on A, touching different rows (so no row conflicts between
    them). Run at once, each passes the base check before the other commits; the lock lets one apply, the other is
    refused, and LOAD_HISTORY names one batch on top of A."""
    settings, export = database
    write_export(export, A, export_tables(A))
    runner.load(settings)
    b1, b2 = "20261102T060000Z-000000b1", "20261102T060000Z-000000b2"
    write_incremental(export, b1, A, {DAILY.name: daily_rows(b1, [(dt.date(2021, 4, 1), 1.0, 1.0, 24)])})
    write_incremental(export, b2, A, {DAILY.name: daily_rows(b2, [(dt.date(2021, 4, 2), 1.0, 1.0, 24)])})
    barrier, outcomes = threading.Barrier(2), {}

    def load(batch_id: str) -> None:
        with session(settings) as s:
            try:
                reader = runner.local_stage_reader(s, settings.database)
                loader.load_export(
                    _MeetAtBegin(s, barrier), runner.stage_name(settings), batch_id, settings.database, reader
                )
                outcomes[batch_id] = "LOADED"
            except LoadError as error:
                outcomes[batch_id] = str(error)

    threads = [threading.Thread(target=load, args=(b,)) for b in (b1, b2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(outcomes) == [b1, b2]
    winners = [b for b, outcome in outcomes.items() if outcome == "LOADED"]
    assert len(winners) == 1, outcomes
    loser = ({b1, b2} - set(winners)).pop()
    assert "another load" in outcomes[loser]
    days = sorted(curated(settings)[DAILY.name]["date_local"])
    assert (dt.date(2021, 4, 1) in days) != (dt.date(2021, 4, 2) in days)
    assert {r[1] for r in history(settings, loser)} == {"FAILED"}


class _ShowTablesRefused(RecordingSession):
    """SHOW TABLES fails (a role without the privilege, a transient error): the stale-staging clean-up."""

    def sql(self, query: str, params=None):
        if query.startswith("SHOW TABLES"):
            raise RuntimeError("SQL access control error: insufficient privileges")
        return super().sql(query, params)


def test_a_failing_stale_staging_clean_up_does_not_fail_the_load(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    with session(settings) as s:
        reader = runner.local_stage_reader(s, settings.database)
        report = loader.load_export(
            _ShowTablesRefused(s), runner.stage_name(settings), "LATEST", settings.database, reader
        )
    assert report["status"] == "LOADED" and report["batch_id"] == A
    assert len(curated(settings)[DAILY.name]) == len(export_tables(A)[DAILY.name])


def test_a_copy_the_warehouse_may_not_read_fails_the_load_at_once(database, monkeypatch):
    """A stage on a folder the locked-down local warehouse may not read: DuckDB refuses the COPY (PermissionException),
    answered as the statement's error (insufficient privileges), so the load fails naming the table and the reason.
    fakesnow answered it as HTTP 500, which the connector retried for minutes: the load hung."""
    settings, _ = database
    outside = Path(tempfile.mkdtemp(prefix="outside-warehouse-"))  # /tmp, not under the folders it was started with
    try:
        monkeypatch.setattr(runner, "check_readable", lambda *_: None)  # the check the runner makes up front
        runner.apply(settings, str(outside))
        write_export(outside, A, export_tables(A))
        outcome: list[BaseException] = []

        def load() -> None:
            try:
                runner.load(settings)
            except BaseException as error:  # noqa: BLE001 - handed to the test's thread
                outcome.append(error)

        thread = threading.Thread(target=load, daemon=True)  # a hung load must not hold the test run
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive(), "the load still runs after 120 s (the connector retrying a server error)"
        assert len(outcome) == 1 and isinstance(outcome[0], LoadError), outcome
        assert re.search(r"table \w+: COPY from .* failed: .*insufficient privileges", str(outcome[0])), outcome[0]
        assert all(frame.empty for frame in curated(settings).values())
    finally:
        shutil.rmtree(outside, ignore_errors=True)
