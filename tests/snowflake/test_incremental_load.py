"""Full and incremental export batches (manifest version 2) loaded on the local warehouse (fakesnow server, FS+SP).

Each test has its own export folder and its own database on the module's warehouse (the deploy plan applied to it),
so no test depends on another's loads. Expected rows are computed here from the fixture's rows, never by the loader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from contract_export import DAYS_BATCH_1, daily_rows, export_tables, generic_row, key_of, write_export
from contract_export import write_incremental_export as write_incremental
from recording_session import RecordingSession

from databricks_jobs import tables
from local_platform.warehouse import runner
from local_platform.warehouse.control import WarehouseSettings, session
from snowpark.energy_snowpark.load_export import LoadError, load_export

A, B, C, D = (f"2026120{day}T060000Z-0000000{day}" for day in range(1, 5))
DAILY, REGIONS, EVENTS = tables.GOLD_DEMAND_DAILY, tables.GOLD_REFERENCE_REGIONS, tables.GOLD_OUTAGES_EVENTS
CONTRACTS = {t.name: t for t in tables.GOLD_TABLES}
Rows = dict[str, list[dict[str, Any]]]


def curated(settings: WarehouseSettings) -> dict[str, pd.DataFrame]:
    """Every curated Gold table, rows sorted by primary key, lower-case column names in contract order."""
    frames = {}
    with session(settings) as s:
        for contract in tables.GOLD_TABLES:
            frame = s.table(f"{settings.database}.CURATED.{contract.name.upper()}").to_pandas()
            frame.columns = [c.lower() for c in frame.columns]
            frame = frame[contract.column_names].sort_values(list(contract.primary_key))
            frames[contract.name] = frame.reset_index(drop=True)
    return frames


def assert_same_tables(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for name in CONTRACTS:
        pd.testing.assert_frame_equal(actual[name], expected[name], check_dtype=False, obj=name)


def history(settings: WarehouseSettings, batch_id: str) -> list[tuple]:
    """(table, status, mode, rows loaded, replaced, deleted) of a batch's LOAD_HISTORY rows."""
    with session(settings) as s:
        rows = s.sql(
            "SELECT TABLE_NAME, STATUS, MODE, ROWS_LOADED, ROWS_REPLACED, ROWS_DELETED, ERROR_MESSAGE "
            f"FROM {settings.database}.CURATED.LOAD_HISTORY WHERE BATCH_ID = ? ORDER BY TABLE_NAME",
            params=[batch_id],
        ).collect()
    return [tuple(r) for r in rows]


def dates(frame: pd.DataFrame) -> list[dt.date]:
    return sorted(frame["date_local"])


def applied(state: Rows, upserts: Rows, deleted: Rows) -> Rows:
    """What CURATED must hold after an incremental batch, computed here: keys deleted, upserts replace or add."""
    result = {}
    for name, contract in CONTRACTS.items():
        by_key = {tuple(key_of(contract, row).values()): row for row in state.get(name, [])}
        for key in deleted.get(name, []):
            by_key.pop(tuple(key[c] for c in contract.primary_key))
        for row in upserts.get(name, []):
            by_key[tuple(key_of(contract, row).values())] = row
        result[name] = list(by_key.values())
    return result


# Batch B on top of A: 2021-03-02 restated, 2021-03-16 new, 2021-03-07 deleted; a new region NORTH, region ERCOT
# deleted; the outage event deleted; every other table unchanged (no file at all).
RESTATED = (dt.date(2021, 3, 2), 219_000.0, 10_200.0, 24)
NEW_DAY = (dt.date(2021, 3, 16), 230_000.0, 12_600.0, 24)


def changes_b() -> tuple[Rows, Rows]:
    upserts = {
        DAILY.name: daily_rows(B, [RESTATED, NEW_DAY]),
        REGIONS.name: [generic_row(REGIONS, region_code="NORTH", region_name="ERCOT North Central", batch_id=B)],
    }
    deleted = {
        DAILY.name: [key_of(DAILY, row) for row in daily_rows(A, [DAYS_BATCH_1[2]])],
        REGIONS.name: [{"region_code": "ERCOT"}],
        EVENTS.name: [key_of(EVENTS, generic_row(EVENTS))],
    }
    return upserts, deleted


def full_a_loaded_then_b(settings: WarehouseSettings, export: Path) -> tuple[Rows, Rows, Rows]:
    """Full batch A written and loaded, then incremental batch B (changes_b) written as LATEST; A's rows and B's."""
    first = export_tables(A)
    write_export(export, A, first)
    runner.load(settings)
    upserts, deleted = changes_b()
    write_incremental(export, B, A, upserts, deleted)
    return first, upserts, deleted


def test_a_full_batch_missing_a_row_deletes_it(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    assert runner.load(settings)["rows_deleted"] == 0
    later = export_tables(B, [DAYS_BATCH_1[0], *DAYS_BATCH_1[2:]])  # 2021-03-02 is gone from the whole table
    write_export(export, B, later)
    report = runner.load(settings)
    daily = curated(settings)[DAILY.name]
    assert dates(daily) == sorted(d[0] for d in DAYS_BATCH_1 if d[0] != dt.date(2021, 3, 2))
    assert set(daily["batch_id"]) == {B}
    by_table = {t["table"]: t for t in report["tables"]}
    assert (by_table[DAILY.name]["rows_replaced"], by_table[DAILY.name]["rows_deleted"]) == (4, 1)
    assert (report["mode"], report["rows_deleted"]) == ("full", 1)
    assert (DAILY.name, "LOADED", "full", 4, 4, 1, None) in history(settings, B)


def test_full_then_incremental_equals_a_full_reload_of_the_final_state(warehouse, database, tmp_path):
    settings, export = database
    first, upserts, deleted = full_a_loaded_then_b(settings, export)
    with session(settings) as s:
        recording = RecordingSession(s)
        reader = runner.local_stage_reader(s, settings.database)
        report = load_export(recording, runner.stage_name(settings), "LATEST", settings.database, reader)
    final = applied(first, upserts, deleted)

    # The loader's figures: 2 upserts (1 replacing) and 1 deletion in the daily table, one COPY per file listed.
    by_table = {t["table"]: t for t in report["tables"]}
    daily_report = {k: by_table[DAILY.name][k] for k in ("rows_loaded", "rows_replaced", "rows_deleted")}
    assert daily_report == {"rows_loaded": 2, "rows_replaced": 1, "rows_deleted": 1}
    assert (report["status"], report["mode"], report["rows_deleted"]) == ("LOADED", "incremental", 3)
    copies = [s for s in recording.statements if s.startswith("COPY INTO")]
    assert len(copies) == 5  # daily rows + keys, regions rows + keys, events keys; unchanged tables: no COPY
    unchanged = [t for t in report["tables"] if t["table"] not in (DAILY.name, REGIONS.name, EVENTS.name)]
    assert unchanged and all(t["files"] == [] and t["rows_loaded"] == t["rows_deleted"] == 0 for t in unchanged)

    # CURATED, row for row, equals a full batch of the final state loaded into a fresh database.
    fresh = dataclasses.replace(warehouse, database="INC_FRESH_RELOAD")
    fresh_export = tmp_path / "fresh_export"
    fresh_export.mkdir()
    runner.apply(fresh, str(fresh_export))
    write_export(fresh_export, C, final)
    assert runner.load(fresh)["mode"] == "full"
    actual, reloaded = curated(settings), curated(fresh)
    assert_same_tables(actual, reloaded)
    # ... and that state is the one intended, not two equal mistakes.
    assert dates(actual[DAILY.name]) == sorted({d[0] for d in DAYS_BATCH_1} - {dt.date(2021, 3, 7)} | {NEW_DAY[0]})
    energy = actual[DAILY.name].set_index("date_local")["energy_mwh"]
    assert energy[RESTATED[0]] == RESTATED[1] and energy[dt.date(2021, 3, 1)] == DAYS_BATCH_1[0][1]
    assert sorted(actual[REGIONS.name]["region_code"]) == ["COAST", "NORTH"]
    assert actual[EVENTS.name].empty
    assert len(actual["gold_demand__hourly_profile"]) == 1  # unchanged tables keep their rows


def test_a_base_mismatch_is_refused_naming_both_batches_and_curated_is_untouched(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    write_export(export, C, export_tables(C, DAYS_BATCH_1[:2]))
    runner.load(settings, A)
    runner.load(settings, C)  # CURATED is at C
    before = curated(settings)
    upserts, deleted = changes_b()
    write_incremental(export, D, A, upserts, deleted)
    message = f"batch {D} applies on top of batch {A}, but CURATED last loaded batch {C}; load {A} first or export"
    with pytest.raises(LoadError, match=message):
        runner.load(settings, D)
    assert_same_tables(curated(settings), before)
    ((table, status, mode, *_counts, error),) = history(settings, D)
    assert (table, status, mode) == (None, "FAILED", "incremental") and f"batch {A}" in error

    # From LATEST, a base the stage does not hold is refused the same way.
    write_incremental(export, D, B, upserts, deleted)
    with pytest.raises(LoadError, match=f"batch {D} applies on top of batch {B}, but CURATED last loaded batch {C}"):
        runner.load(settings)
    assert_same_tables(curated(settings), before)


def test_an_incremental_batch_into_a_curated_that_never_loaded_is_refused(database):
    settings, export = database
    upserts, deleted = changes_b()
    write_incremental(export, B, A, upserts, deleted)
    for batch_id in (B, "LATEST"):  # A is not on the stage either
        with pytest.raises(LoadError, match=f"batch {B} applies on top of batch {A}, but CURATED has loaded no batch"):
            runner.load(settings, batch_id)
    assert all(frame.empty for frame in curated(settings).values())


def test_a_chain_of_incremental_batches_is_loaded_in_order_from_latest(database):
    settings, export = database
    first, upserts_b, deleted_b = full_a_loaded_then_b(settings, export)
    # C on top of B: 2021-03-16 (new in B) restated, 2021-03-01 deleted, region NORTH (new in B) deleted.
    upserts_c = {DAILY.name: daily_rows(C, [(dt.date(2021, 3, 16), 231_000.0, 12_700.0, 24)])}
    deleted_c = {
        DAILY.name: [key_of(DAILY, row) for row in daily_rows(C, [DAYS_BATCH_1[0]])],
        REGIONS.name: [{"region_code": "NORTH"}],
    }
    write_incremental(export, C, B, upserts_c, deleted_c)

    report = runner.load(settings)  # LATEST is C; CURATED is at A
    assert [(b["batch_id"], b["base_batch_id"], b["status"]) for b in report["batches"]] == [
        (B, A, "LOADED"),
        (C, B, "LOADED"),
    ]
    assert (report["batch_id"], report["rows_deleted"]) == (C, 2)
    assert report["batches"][0]["load_id"] == report["load_id"]
    expected = applied(applied(first, upserts_b, deleted_b), upserts_c, deleted_c)
    actual = curated(settings)
    assert dates(actual[DAILY.name]) == sorted(row["date_local"] for row in expected[DAILY.name])
    assert actual[DAILY.name].set_index("date_local")["energy_mwh"][dt.date(2021, 3, 16)] == 231_000.0
    assert list(actual[REGIONS.name]["region_code"]) == ["COAST"]
    # A table the batch carries no change for is recorded UNCHANGED, not LOADED.
    last_changed = dict.fromkeys(CONTRACTS, A)
    for batch_id, upserts, deleted in ((B, upserts_b, deleted_b), (C, upserts_c, deleted_c)):
        changed = set(upserts) | set(deleted)
        assert {r[0]: r[1:3] for r in history(settings, batch_id)} == {
            name: ("LOADED" if name in changed else "UNCHANGED", "incremental") for name in CONTRACTS
        }
        last_changed.update(dict.fromkeys(changed, batch_id))
    assert runner.load(settings)["status"] == "SKIPPED"

    # DATA_FRESHNESS: each table at the batch that last changed it, with the rows it holds now.
    runner.build(settings)
    query = f"SELECT TABLE_NAME, BATCH_ID, ROW_COUNT FROM {settings.database}.REPORTING.DATA_FRESHNESS"
    with session(settings) as s:
        freshness = sorted(tuple(r) for r in s.sql(query).collect())
    assert freshness == sorted((name, last_changed[name], len(frame)) for name, frame in actual.items())
    assert (DAILY.name, C, 4) in freshness  # 5 days - 03-07 + 03-16 - 03-01; C itself upserted 1
    assert (tables.GOLD_WEATHER_DAILY_DEGREE_DAYS.name, A, 1) in freshness  # no batch since A changed it


def test_a_chain_from_latest_may_start_at_a_full_batch(database):
    """CURATED never loaded, the stage holds full A then incremental B: both load, A first."""
    settings, export = database
    first = export_tables(A)
    write_export(export, A, first)
    upserts, deleted = changes_b()
    write_incremental(export, B, A, upserts, deleted)
    report = runner.load(settings)
    assert [(b["batch_id"], b["mode"]) for b in report["batches"]] == [(A, "full"), (B, "incremental")]
    expected = applied(first, upserts, deleted)
    assert dates(curated(settings)[DAILY.name]) == sorted(row["date_local"] for row in expected[DAILY.name])


def test_a_key_both_upserted_and_deleted_is_refused_naming_table_and_key(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    runner.load(settings)
    before = curated(settings)
    upserts = {DAILY.name: daily_rows(B, [RESTATED])}
    deleted = {DAILY.name: [key_of(DAILY, row) for row in daily_rows(A, [DAYS_BATCH_1[1]])]}  # also 2021-03-02
    write_incremental(export, B, A, upserts, deleted)
    message = (
        rf"batch {B}: table gold_demand__daily: key \(source_id, region_code, date_local\) = "
        r"\(ercot_native_load, COAST, 2021-03-02\) is both upserted and deleted"
    )
    with pytest.raises(LoadError, match=message):
        runner.load(settings)
    assert_same_tables(curated(settings), before)


def test_deleted_keys_disagreeing_with_the_manifest_or_duplicated_are_refused(database):
    settings, export = database
    write_export(export, A, export_tables(A))
    runner.load(settings)
    before = curated(settings)
    key = key_of(DAILY, daily_rows(A, DAYS_BATCH_1[:1])[0])
    batch = write_incremental(export, B, A, {}, {DAILY.name: [key, key]})
    with pytest.raises(LoadError, match=r"gold_demand__daily: primary key .* 1 duplicated and 0 null values in the"):
        runner.load(settings)
    manifest = json.loads((batch / "_manifest.json").read_text())
    entry = next(t for t in manifest["tables"] if t["name"] == DAILY.name)
    entry["deleted_keys"]["row_count"] = entry["deleted_keys"]["files"][0]["row_count"] = 1
    (batch / "_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(LoadError, match=r"file gold_demand__daily/deleted_keys/part-\S+ has 2 rows but the manifest"):
        runner.load(settings)
    assert_same_tables(curated(settings), before)


def test_a_version_1_manifest_is_refused_asking_for_a_re_export(database):
    settings, export = database
    batch = write_export(export, A, export_tables(A))
    manifest = json.loads((batch / "_manifest.json").read_text())
    manifest["manifest_version"] = 1
    (batch / "_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(LoadError, match="manifest_version 1 .* re-export the batch"):
        runner.load(settings)
    assert all(frame.empty for frame in curated(settings).values())


class AnotherLoadCommitsFirst(RecordingSession):
    """Just before this load's transaction, another load (a manual CALL during the TASK's) commits batch `other`."""

    def __init__(self, wrapped, database: str, other: str) -> None:
        super().__init__(wrapped)
        self._database, self._other = database, other

    def sql(self, query: str, params=None):
        if query == "BEGIN TRANSACTION" and self._other:
            self._session.sql(
                f"INSERT INTO {self._database}.CURATED.LOAD_HISTORY (LOAD_ID, BATCH_ID, TABLE_NAME, STATUS, "
                "FILES_LOADED, ROWS_IN_MANIFEST, ROWS_LOADED, ROWS_REJECTED, ROWS_REPLACED, LOADED_AT_UTC) "
                "VALUES ('other', ?, 'gold_demand__daily', 'LOADED', 0, 0, 0, 0, 0, ?)",
                params=[self._other, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            ).collect()
            self._other = ""
        return super().sql(query, params)


def test_an_incremental_batch_is_refused_when_another_load_committed_while_it_ran(database):
    settings, export = database
    full_a_loaded_then_b(settings, export)
    before = curated(settings)
    with session(settings) as s:
        racing = AnotherLoadCommitsFirst(s, settings.database, C)
        reader = runner.local_stage_reader(s, settings.database)
        message = f"batch {B} applies on top of batch {A}, but CURATED last loaded batch {C}.*another load committed"
        with pytest.raises(LoadError, match=message):
            load_export(racing, runner.stage_name(settings), B, settings.database, reader)
    assert_same_tables(curated(settings), before)
    assert any(s.startswith("ROLLBACK") for s in racing.statements)
