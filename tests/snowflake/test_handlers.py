"""UDF / UDAF / vectorized handlers and argument validation: plain Python against hand-computed values, and in
Snowpark local testing (LT) where LT can run them."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from databricks_jobs import tables
from databricks_jobs.export import snowflake_contract as ddl
from snowpark.energy_snowpark import export_contract, identifiers, load_export, refresh, reporting_views
from snowpark.energy_snowpark.load_factor import LoadFactorAggregate, load_factor, load_factor_vectorized

INJECTIONS = [
    "x; drop table ENERGY.CURATED.GOLD_DEMAND__DAILY",
    '"ENERGY"',
    'ENERGY"; DROP TABLE T; --',
    "ENERGY.CURATED.EXPORT_STAGE/../x",
    "a b",
    "1ENERGY",
    "",
]


def test_identifiers_are_validated_and_quoted():
    assert identifiers.quote_identifier("energy") == '"ENERGY"'
    assert identifiers.quote_qualified_name("energy.curated.export_stage") == '"ENERGY"."CURATED"."EXPORT_STAGE"'
    for bad in INJECTIONS:
        with pytest.raises(identifiers.InvalidIdentifierError, match="invalid"):
            identifiers.quote_qualified_name(bad)
    with pytest.raises(identifiers.InvalidIdentifierError, match="at most 3"):
        identifiers.quote_qualified_name("a.b.c.d")
    assert identifiers.validate_batch_id("latest") == "LATEST"
    with pytest.raises(identifiers.InvalidIdentifierError, match="batch id"):
        identifiers.validate_batch_id("20261125T201500Z-3f9a1c2b/../../x")


def test_scalar_load_factor_hand_computed():
    assert load_factor(9_000.0, 12_000.0) == pytest.approx(0.75)
    assert load_factor(9_000.0, 0.0) is None
    assert load_factor(None, 12_000.0) is None
    assert load_factor(float("nan"), 1.0) is None


def test_udaf_hand_computed_and_merge_equals_single_pass():
    values = [10.0, 20.0, None, 30.0, 40.0]  # energy 100 MWh over 4 hours, peak 40 -> 100 / (40 * 4)
    single = LoadFactorAggregate()
    for value in values:
        single.accumulate(value)
    assert single.finish() == pytest.approx(100 / 160)
    left, right = LoadFactorAggregate(), LoadFactorAggregate()
    for value in values[:2]:
        left.accumulate(value)
    for value in values[2:]:
        right.accumulate(value)
    left.merge(right.aggregate_state)
    assert left.finish() == pytest.approx(single.finish())
    assert LoadFactorAggregate().finish() is None


def test_vectorized_hand_computed():
    frame = pd.DataFrame({0: [9_000.0, 5.0, None, 3.0], 1: [12_000.0, 0.0, 3.0, -1.0]})
    result = load_factor_vectorized(frame)
    assert result.iloc[0] == pytest.approx(0.75)
    assert result.iloc[1:].isna().all()
    assert [load_factor(a, p) for a, p in frame.itertuples(index=False)][0] == pytest.approx(result.iloc[0])


@pytest.fixture(scope="module")
def lt_session():
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()


def test_udfs_in_local_testing_match_handlers(lt_session):
    from snowflake.snowpark import functions as F
    from snowflake.snowpark.types import DoubleType

    pairs = [(9_000.0, 12_000.0), (1.0, 4.0), (5.0, 0.0), (None, 3.0)]
    frame = lt_session.create_dataframe(pairs, schema=["AVG_MW", "PEAK_MW"])
    scalar = lt_session.udf.register(load_factor, return_type=DoubleType(), input_types=[DoubleType(), DoubleType()])
    got = [row[0] for row in frame.select(scalar(F.col("AVG_MW"), F.col("PEAK_MW"))).collect()]
    assert got == [load_factor(a, p) for a, p in pairs]

    hourly = lt_session.create_dataframe([[10.0], [20.0], [30.0], [40.0]], schema=["DEMAND_MW"])
    udaf = lt_session.udaf.register(LoadFactorAggregate, return_type=DoubleType(), input_types=[DoubleType()])
    (row,) = hourly.select(udaf(F.col("DEMAND_MW"))).collect()
    assert row[0] == pytest.approx(100 / 160)


PROCEDURES = {
    "LOAD_GOLD_EXPORT": (load_export.main, ["stage", "LATEST", "ENERGY"]),
    "BUILD_REPORTING_VIEWS": (reporting_views.main, ["ENERGY"]),
    "REFRESH_REPORTING": (refresh.main, ["stage", "LATEST", "ENERGY"]),
}


@pytest.mark.parametrize("name", sorted(PROCEDURES))
@pytest.mark.parametrize("bad", ["x; drop table ENERGY.CURATED.GOLD_DEMAND__DAILY", '"ENERGY"."CURATED"."X"'])
def test_each_procedure_refuses_object_name_injection_in_local_testing(lt_session, name, bad):
    """Registered as a stored procedure in LT and called: the name argument is refused before any SQL runs."""
    from snowflake.snowpark.types import StringType, VariantType

    handler, args = PROCEDURES[name]
    procedure = lt_session.sproc.register(
        handler, return_type=VariantType(), input_types=[StringType()] * len(args), name=name, replace=True
    )
    args = [bad, *args[1:]]  # the first argument names an object: the stage, or the database
    with pytest.raises(Exception, match="invalid (stage|database) name"):
        procedure(*args, session=lt_session)
    if len(args) == 3:  # the database argument is validated too
        with pytest.raises(Exception, match="invalid database name"):
            handler(lt_session, "ENERGY.CURATED.EXPORT_STAGE", "LATEST", bad)


def _entry(table: tables.TableContract, rows: int) -> dict:
    return {
        "name": table.name,
        "row_count": rows,
        "primary_key": list(table.primary_key),
        "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in table.columns],
        "files": [{"path": f"{table.name}/part-00000-3f9a1c2b-c000.snappy.parquet", "row_count": rows}],
        "deleted_keys": {"row_count": 0, "files": []},
        "gold_table_id": None,
        "gold_version": None,
        "gold_base_version": None,
    }


def _manifest(mode: str = "full", base: str | None = None, **table_changes) -> dict:
    """A version 2 manifest exactly per the contract: gold_demand__daily first (3 rows; keyword arguments replace
    its entry's fields); a full batch also lists every other contract table with one empty file."""
    entry = {**_entry(tables.GOLD_DEMAND_DAILY, 3), **table_changes}
    others = [_entry(t, 0) for t in tables.GOLD_TABLES if t is not tables.GOLD_DEMAND_DAILY] if mode == "full" else []
    return {
        "manifest_version": 2,
        "batch_id": BATCH,
        "format": "parquet",
        "mode": mode,
        "base_batch_id": base,
        "tables": [entry, *others],
    }


BATCH = "20261125T201500Z-3f9a1c2b"
DAILY_COLUMNS = [{"name": c.name, "type": c.type} for c in tables.GOLD_DEMAND_DAILY.columns]


def test_manifest_per_the_contract_is_accepted_with_the_contracts_key():
    parsed = load_export.parse_manifest(json.dumps(_manifest()), BATCH)
    assert parsed.tables[0].files[0].row_count == 3
    assert parsed.tables[0].primary_key == ("source_id", "region_code", "date_local")
    assert parsed.tables[0].columns == tuple(tables.GOLD_DEMAND_DAILY.column_names)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "gold_demand__weekly"}, r"manifest table 'gold_demand__weekly': field name is not a table of"),
        ({"name": "LOAD_HISTORY"}, r"manifest table LOAD_HISTORY: LOAD_HISTORY is the load's audit table"),
        ({"name": "load_history"}, r"audit table, never a load target"),
        ({"name": "silver_demand__hourly"}, r"'silver_demand__hourly': field name is not a table of the export"),
        ({"primary_key": ["source_id", "region_code"]}, r"gold_demand__daily: field primary_key \['source_id', 're"),
        ({"primary_key": ["batch_id"]}, r"field primary_key \['batch_id'\] != the contract's \['source_id'"),
        ({"columns": DAILY_COLUMNS[:-1]}, r"gold_demand__daily: field columns .* missing \['batch_id'\], not in the"),
        ({"columns": [*DAILY_COLUMNS, {"name": "x", "type": "string"}]}, r"not in the contract \['x'\]"),
        (
            {"columns": [{**c, "type": "string"} if c["name"] == "energy_mwh" else c for c in DAILY_COLUMNS]},
            r"gold_demand__daily: column energy_mwh: field type 'string' != the contract's 'double'",
        ),
        ({"row_count": 4}, r"gold_demand__daily: row_count 4 != sum"),
    ],
)
def test_manifest_outside_the_contract_is_refused_naming_table_and_field(changes, message):
    with pytest.raises(load_export.LoadError, match=message):
        load_export.parse_manifest(json.dumps(_manifest(**changes)), BATCH)


@pytest.mark.parametrize(
    "path",
    [
        "gold_demand__daily/part-0\\.parquet",
        "gold_demand__daily/part-0'.parquet",
        "gold_demand__daily/part-0').parquet",
        "gold_demand__daily/part-[0].parquet",
        "gold_demand__daily/part-0 1.parquet",
        "gold_demand__daily/../../secrets/part-0.parquet",
        "gold_demand__daily/part-0..parquet",
        "gold_demand__daily/sub/part-0.parquet",
        "gold_outages__events/part-0.parquet",
        "gold_demand__daily/data-0.parquet",
        "gold_demand__daily/part-0.csv",
        "gold_demand__daily/part-0.parquet\n",
    ],
)
def test_file_names_outside_the_strict_pattern_are_refused(path):
    with pytest.raises(load_export.LoadError, match=r"gold_demand__daily: field files: path .* refused: expected"):
        load_export.parse_manifest(json.dumps(_manifest(files=[{"path": path, "row_count": 3}])), BATCH)


BASE = "20261124T201500Z-00000b0e"
KEYS_PATH = "gold_demand__daily/deleted_keys/part-00000-3f9a1c2b.snappy.parquet"


def _deleted(row_count: int = 2, path: str = KEYS_PATH, file_rows: int | None = None) -> dict:
    rows = row_count if file_rows is None else file_rows
    return {"row_count": row_count, "files": [{"path": path, "row_count": rows}]}


def test_incremental_manifest_with_deleted_keys_is_accepted():
    parsed = load_export.parse_manifest(json.dumps(_manifest("incremental", BASE, deleted_keys=_deleted())), BATCH)
    assert (parsed.mode, parsed.base_batch_id) == ("incremental", BASE)
    (table,) = parsed.tables
    assert (table.deleted_key_count, [f.path for f in table.deleted_key_files]) == (2, [KEYS_PATH])
    assert table.deleted_key_files[0].folder == "gold_demand__daily/deleted_keys"
    unchanged = _manifest("incremental", BASE, row_count=0, files=[])
    assert load_export.parse_manifest(json.dumps(unchanged), BATCH).tables[0].unchanged


def test_a_version_1_manifest_is_refused_asking_for_a_re_export():
    manifest = _manifest()
    manifest["manifest_version"] = 1
    with pytest.raises(load_export.LoadError, match=r"of batch 2026.*manifest_version 1 .* re-export the batch"):
        load_export.parse_manifest(json.dumps(manifest), BATCH)


@pytest.mark.parametrize(
    ("mode", "base", "changes", "message"),
    [
        ("delta", None, {}, r"field mode 'delta' is not one of \['full', 'incremental'\]"),
        (None, None, {}, r"field mode None is not one of"),
        ("full", BASE, {}, r"field base_batch_id '20261124T201500Z-00000b0e': a full batch has no base batch"),
        ("incremental", None, {}, r"field base_batch_id None is not a batch id"),
        ("incremental", "LATEST", {}, r"field base_batch_id 'LATEST' is not a batch id"),
        ("incremental", "20261124T201500Z-0'; drop", {}, r"is not a batch id"),
        ("incremental", BATCH, {}, r"field base_batch_id 20261125T201500Z-3f9a1c2b is not older than the batch"),
        ("incremental", "20261126T000000Z-00000000", {}, r"is not older than the batch itself"),
        ("full", None, {"deleted_keys": _deleted()}, r"gold_demand__daily: field deleted_keys: a full batch deletes"),
        ("incremental", BASE, {"deleted_keys": None}, r"gold_demand__daily: field deleted_keys None is not an object"),
        ("incremental", BASE, {"deleted_keys": {"row_count": 0}}, r"field deleted_keys.files None is not a list"),
        (
            "incremental",
            BASE,
            {"deleted_keys": _deleted(3, file_rows=2)},
            r"gold_demand__daily: deleted_keys.row_count 3 != sum of its files' row_count 2",
        ),
        ("incremental", BASE, {"deleted_keys": _deleted(-1)}, r"field deleted_keys.files: .*row_count -1 is not a"),
        ("incremental", BASE, {"deleted_keys": _deleted(True)}, r"row_count True is not a count"),
        ("incremental", BASE, {"row_count": "3"}, r"gold_demand__daily: field row_count '3' is not a count"),
        ("incremental", BASE, {"files": [KEYS_PATH]}, r"field files: entry .* is not an object"),
    ],
)
def test_mode_base_and_deleted_keys_are_checked_strictly(mode, base, changes, message):
    with pytest.raises(load_export.LoadError, match=message):
        load_export.parse_manifest(json.dumps(_manifest(mode, base, **changes)), BATCH)


@pytest.mark.parametrize(
    "path",
    [
        "gold_demand__daily/part-0.parquet",
        "gold_demand__daily/deleted_keys/part-0'.parquet",
        "gold_demand__daily/deleted_keys/../part-0.parquet",
        "gold_demand__daily/deleted_keys/sub/part-0.parquet",
        "gold_outages__events/deleted_keys/part-0.parquet",
        "gold_demand__daily/deleted_rows/part-0.parquet",
        "gold_demand__daily/deleted_keys/part-0.parquet\n",
    ],
)
def test_deleted_key_paths_outside_the_strict_pattern_are_refused(path):
    manifest = _manifest("incremental", BASE, deleted_keys=_deleted(path=path))
    with pytest.raises(load_export.LoadError, match=r"field deleted_keys.files: path .* refused: expected gold_demand"):
        load_export.parse_manifest(json.dumps(manifest), BATCH)


def test_a_table_listed_twice_is_refused():
    manifest = _manifest()
    manifest["tables"].append(manifest["tables"][0])
    with pytest.raises(load_export.LoadError, match=r"listed twice: \['gold_demand__daily'\]"):
        load_export.parse_manifest(json.dumps(manifest), BATCH)


def test_the_load_contract_is_generated_from_the_gold_tables():
    assert ddl.EXPORT_CONTRACT_JSON.read_text(encoding="utf-8") == ddl.export_contract_json(), (
        "snowpark/energy_snowpark/export_contract.json is stale: "
        "run python -m databricks_jobs.export.snowflake_contract"
    )
    assert export_contract.TABLES == {
        t.name: (tuple((c.name, c.type, c.nullable) for c in t.columns), t.primary_key) for t in tables.GOLD_TABLES
    }
    assert "load_history" not in {name.lower() for name in export_contract.TABLES}


def test_the_load_reads_batches_as_the_export_lays_them_out():
    """Batch id pattern, manifest and LATEST file names, manifest version, modes and the deleted-keys folder: the load
    takes them from the generated contract, and they are the lakehouse's own."""
    from databricks_jobs.batch import batch_id_for_run, new_batch_id
    from databricks_jobs.export import manifest
    from snowpark.energy_snowpark import load_manifest

    assert (load_manifest.MANIFEST_FILE, export_contract.LATEST_FILE) == (manifest.MANIFEST_FILE, manifest.LATEST_FILE)
    assert load_manifest.MANIFEST_VERSION == manifest.MANIFEST_VERSION
    assert (load_manifest.FULL, load_manifest.INCREMENTAL) == manifest.MODES
    assert (load_manifest.DELETED_KEYS_FOLDER, export_contract.FORMAT) == (
        manifest.DELETED_KEYS_FOLDER,
        manifest.FORMAT,
    )
    for batch_id in (new_batch_id(), batch_id_for_run(1764101700000, "550315892394120"), "20261125T201500Z-3f9a1c2b"):
        assert identifiers.validate_batch_id(batch_id) == batch_id
    for wrong in ("20261125T201500Z-3F9A1C2B", "20261125T201500-3f9a1c2b", "20261125T201500Z-3f9a1c2b\n", "x"):
        with pytest.raises(identifiers.InvalidIdentifierError):
            identifiers.validate_batch_id(wrong)


def test_plausibility_rules_follow_the_contract_names_and_types():
    from snowpark.energy_snowpark.plausibility import rules_for

    now = dt.datetime(2026, 11, 28, 12, 0)
    daily = {r.column: r for r in rules_for(export_contract.TABLES["gold_demand__daily"][0], now)}
    numeric = {c for c, t, _ in export_contract.TABLES["gold_demand__daily"][0] if t in ("double", "int", "bigint")}
    assert numeric <= set(daily)  # every number has a rule
    assert daily["date_local"].params == (dt.date(1990, 1, 1), dt.date(2026, 11, 29))
    assert daily["load_factor"].violation == 'NOT ("LOAD_FACTOR" >= ? AND "LOAD_FACTOR" <= ?)'
    assert daily["load_factor"].params == (0.0, 1.0)
    assert daily["completeness_pct"].params == (0.0, 100.0)
    assert daily["energy_mwh"].params == (0.0, 1.7976931348623157e308)  # non-negative and finite
    assert daily["hours_reported"].params == (0, 25)
    assert daily["hours_expected"].params == (23, 25)
    profile = {r.column: r.params for r in rules_for(export_contract.TABLES["gold_demand__hourly_profile"][0], now)}
    assert (profile["month"], profile["hour_local"], profile["hours_count"]) == ((1, 12), (0, 23), (0,))
    yearly = {r.column: r.params for r in rules_for(export_contract.TABLES["gold_reliability__yearly"][0], now)}
    assert (yearly["year"], yearly["period_hours"]) == ((1990, 2027), (0, 8784))
    assert yearly["asai_w_major_event_days_pct"] == (0.0, 100.0)
    events = {r.column: r for r in rules_for(export_contract.TABLES["gold_outages__events"][0], now)}
    assert "customers_affected" in events and "is_customers_unknown" not in events
    restored = [r for r in events.values() if r.violation == '"RESTORED_AT_UTC" < "STARTED_AT_UTC"']
    assert len(restored) == 1
