"""Tables by name: the DDL each contract gets (Unity Catalog vs the local session catalog), what the created table
holds (comments, clustering, NOT NULL), re-registration of a lake written by an earlier session, and maintenance."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_TABLES, SILVER_DEMAND_HOURLY, SILVER_TABLES, TableContract

pytestmark = pytest.mark.spark


def demand_rows(spark, hours: int, region: str = "COAST", start_hour: int = 0):
    rows = [
        ("s", region, datetime(2021, 3, 1, start_hour + h), datetime(2021, 3, 1, start_hour + h + 1))
        + (100.0 + h, 100.0 + h, None, False, "f.csv", h + 2, "20210301T000000Z-00000001")
        for h in range(hours)
    ]
    return spark.createDataFrame(rows, SILVER_DEMAND_HOURLY.spark_schema())


def test_unity_catalog_ddl_names_the_table_and_leaves_storage_to_unity_catalog():
    settings = LakeSettings(catalog="energy", schema="lakehouse")
    for contract in (*SILVER_TABLES, *GOLD_TABLES):
        ddl = lake.create_table_sql(settings, contract)
        assert ddl.startswith(f"CREATE TABLE IF NOT EXISTS energy.lakehouse.{contract.name} (")
        # Unity Catalog managed tables: no LOCATION (tables may not live in a Volume, nor anywhere the DDL picks).
        assert "LOCATION" not in ddl and "/Volumes" not in ddl
        assert "USING DELTA" in ddl
        for column in contract.columns:
            assert f"`{column.name}` {column.type.upper()}" in ddl
        if contract.cluster_by:
            assert f"CLUSTER BY ({', '.join(f'`{c}`' for c in contract.cluster_by)})" in ddl
        # The export reads every Gold table's change data feed: on from the CREATE (docs page "Use Delta Lake change
        # data feed on Databricks"), never on Silver (nothing reads it there).
        feed = "'delta.enableChangeDataFeed' = 'true'"
        assert (feed in ddl) == (contract in GOLD_TABLES), contract.name
        # Every table records the contract version and fingerprint it was made with (docs/upgrading.md).
        assert f"'energy_platform.contract_fingerprint' = '{contract.fingerprint}'" in ddl


def test_names_that_would_need_quoting_are_refused():
    with pytest.raises(ValueError, match="catalog"):
        LakeSettings(catalog="energy; drop", schema="lakehouse")
    with pytest.raises(ValueError, match="table name"):
        LakeSettings().table_name("gold`x")


def describe(spark, name: str) -> dict[str, str]:
    return {r.col_name: r.data_type for r in spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect()}


def test_a_created_table_carries_its_contract(spark, tmp_path):
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_contract_test")
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 3))
    name = settings.table_name(SILVER_DEMAND_HOURLY.name)
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail.clusteringColumns == list(SILVER_DEMAND_HOURLY.cluster_by)
    assert detail.description == SILVER_DEMAND_HOURLY.description
    assert detail.location.rstrip("/").endswith(f"{tmp_path}/lake/{SILVER_DEMAND_HOURLY.name}")
    comments = {r.col_name: r.comment for r in spark.sql(f"DESCRIBE TABLE {name}").collect()}
    for column in SILVER_DEMAND_HOURLY.columns:
        assert comments[column.name] == (column.description or None)
    # NOT NULL from the contract is enforced by Delta, as on Databricks.
    bad = demand_rows(spark, 1).withColumn("region_code", F.lit(None).cast("string"))
    with pytest.raises(Exception, match="NOT_NULL|NOT NULL"):
        lake.append(spark, settings, SILVER_DEMAND_HOURLY, bad)
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).count() == 3


def test_a_gold_table_is_created_with_its_change_data_feed_on(spark, tmp_path):
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_cdf_test")
    gold, silver = GOLD_TABLES[0], SILVER_DEMAND_HOURLY
    lake.ensure_table(spark, settings, gold)
    lake.append(spark, settings, silver, demand_rows(spark, 1))
    properties = spark.sql(f"DESCRIBE DETAIL {settings.table_name(gold.name)}").first()["properties"]
    assert properties.get("delta.enableChangeDataFeed") == "true"
    assert lake.table_state(spark, settings, gold.name).change_data_feed
    assert not lake.table_state(spark, settings, silver.name).change_data_feed


def _described(spark, settings: LakeSettings, table: str) -> lake.TableMetadata:
    """DESCRIBE DETAIL's answer, as Unity Catalog gives it: the independent reading of the same commit."""
    row = spark.sql(f"DESCRIBE DETAIL {settings.table_name(table)}").first()
    stamp = row["lastModified"].isoformat(timespec="milliseconds")
    return lake.TableMetadata(str(row["id"]), row["description"], dict(row["properties"]), stamp)


def test_local_metadata_is_describe_details_answer_after_every_commit(spark, tmp_path):
    """lake.metadata reads Delta's snapshot locally (no state reconstruction); it must say what DESCRIBE DETAIL says,
    also after a commit and a property change made since it was last read."""
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_metadata_test")
    gold = GOLD_TABLES[0]
    assert lake.metadata(spark, settings, gold.name) is None
    lake.ensure_table(spark, settings, gold)
    first = lake.metadata(spark, settings, gold.name)
    assert first == _described(spark, settings, gold.name)
    assert first.description == gold.description and first.properties["delta.enableChangeDataFeed"] == "true"
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 2))
    before = lake.metadata(spark, settings, SILVER_DEMAND_HOURLY.name)
    spark.sql(f"ALTER TABLE {settings.table_name(SILVER_DEMAND_HOURLY.name)} SET TBLPROPERTIES ('x.note' = 'a')")
    after = lake.metadata(spark, settings, SILVER_DEMAND_HOURLY.name)
    assert after == _described(spark, settings, SILVER_DEMAND_HOURLY.name)
    assert after.properties["x.note"] == "a" and "x.note" not in before.properties
    assert after.table_id == before.table_id and after.last_modified_utc >= before.last_modified_utc


def test_a_lake_written_earlier_is_found_again_by_name(spark, tmp_path):
    first = LakeSettings(lake_root=str(tmp_path / "first"), schema="lake_rebind_test")
    second = LakeSettings(lake_root=str(tmp_path / "second"), schema="lake_rebind_test")
    lake.append(spark, first, SILVER_DEMAND_HOURLY, demand_rows(spark, 2))
    lake.append(spark, second, SILVER_DEMAND_HOURLY, demand_rows(spark, 5))
    # The session catalog lives in memory: a new session (or a rebind) must find the first lake's table again.
    assert lake.read(spark, first, SILVER_DEMAND_HOURLY.name).count() == 2
    assert lake.read(spark, second, SILVER_DEMAND_HOURLY.name).count() == 5
    assert lake.read(spark, first, "gold_never_written") is None
    # Rebinding dropped names only: both lakes' files are intact.
    assert lake.read(spark, second, SILVER_DEMAND_HOURLY.name).count() == 5
    assert lake.read(spark, first, SILVER_DEMAND_HOURLY.name).count() == 2


def test_a_table_whose_creation_was_killed_is_created_afresh_and_a_folder_with_data_is_left(spark, tmp_path):
    """What a pipeline killed inside CREATE TABLE leaves (seen in the fault test with sources at once): a `_delta_log`
    with only Delta's temporary commit file and an empty `_staged_commits`. Delta refuses to create a table there;
    the lake clears it and creates the table. A folder with any data file is not cleared: Delta's refusal stands."""
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_cut_short_test")
    log = tmp_path / "lake" / SILVER_DEMAND_HOURLY.name / "_delta_log"
    (log / "_staged_commits").mkdir(parents=True)
    (log / ".00000000000000000000.json.ee4d3a81-3998-4329-a092-d2de6bcfe79b.tmp").write_text('{"commitInfo":{}}\n')
    assert not lake.exists(spark, settings, SILVER_DEMAND_HOURLY.name)
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 3))
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).count() == 3

    other = LakeSettings(lake_root=str(tmp_path / "other"), schema="lake_cut_short_test")
    folder = tmp_path / "other" / SILVER_DEMAND_HOURLY.name
    (folder / "_delta_log").mkdir(parents=True)
    (folder / "part-00000.parquet").write_bytes(b"PAR1")
    # Not what a cut-short creation leaves: never deleted, and Delta's own refusal names the folder.
    with pytest.raises(AnalysisException, match=f"no transaction log present at .*{folder.name}"):
        lake.exists(spark, other, SILVER_DEMAND_HOURLY.name)
    assert (folder / "part-00000.parquet").exists()


def test_overwrite_replaces_only_matching_rows_and_keeps_the_definition(spark, tmp_path):
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_overwrite_test")
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 4))
    replacement = demand_rows(spark, 2).withColumn("demand_mw", F.lit(1.0))
    lake.overwrite(spark, settings, SILVER_DEMAND_HOURLY, replacement, F.col("source_row_number") < 4)
    values = sorted(r.demand_mw for r in lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).collect())
    assert values == [1.0, 1.0, 102.0, 103.0]
    lake.overwrite(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 1))  # every row
    assert [r.demand_mw for r in lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).collect()] == [100.0]
    detail = spark.sql(f"DESCRIBE DETAIL {settings.table_name(SILVER_DEMAND_HOURLY.name)}").first()
    assert detail.clusteringColumns == list(SILVER_DEMAND_HOURLY.cluster_by)


def test_maintenance_compacts_small_files_and_vacuums(spark, tmp_path):
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_maintain_test")
    for hour in range(4):  # four commits, four small files
        lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 1, start_hour=hour).coalesce(1))
    name = settings.table_name(SILVER_DEMAND_HOURLY.name)
    assert spark.sql(f"DESCRIBE DETAIL {name}").first().numFiles == 4
    result = lake.maintain(spark, settings, [SILVER_DEMAND_HOURLY.name, "gold_never_written"], 168)
    assert result == {SILVER_DEMAND_HOURLY.name: {"files_added": 1, "files_removed": 4}}
    assert spark.sql(f"DESCRIBE DETAIL {name}").first().numFiles == 1
    operations = [r.operation for r in spark.sql(f"DESCRIBE HISTORY {name}").collect()]
    assert operations[:3] == ["VACUUM END", "VACUUM START", "OPTIMIZE"]
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).count() == 4
    with pytest.raises(ValueError, match="168-hour"):
        lake.maintain(spark, settings, [SILVER_DEMAND_HOURLY.name], 24)


def test_maintenance_drops_the_scratch_tables_an_earlier_release_wrote(spark, tmp_path):
    """Silver staged per source before it staged per table: those scratch tables are read by nothing any more. The
    maintain stage drops them (catalog entry and folder) and keeps this release's scratch tables and a user's table.
    (No contract table in this lake: OPTIMIZE and VACUUM have their own test above.)"""
    from databricks_jobs.jobs.pipeline import run_pipeline
    from databricks_jobs.tables import gold_staging, silver_staging, staging_tables

    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="lake_scratch_test")
    old = ["staging_silver__noaa_isd_temperature__candidates", "staging_silver__noaa_isd_temperature__duplicate_keys"]
    current = [silver_staging(SILVER_DEMAND_HOURLY.name, "candidates"), gold_staging(GOLD_TABLES[0].name)]
    assert not set(old) & staging_tables() and set(current) <= staging_tables()
    users = "staging_my_own_analysis"  # a user's table in the schema, not a scratch table of any release
    for table in [*old, *current, users]:
        lake.stage(spark, settings, table, demand_rows(spark, 1))
    report = run_pipeline(settings, stages=("maintain",), spark=spark, log=lambda _: None)

    assert report.ok, report.error
    assert f"2 scratch tables an earlier release wrote dropped ({', '.join(old)})" in report.step("maintain").summary
    for table in old:
        assert not (tmp_path / "lake" / table).exists() and not spark.catalog.tableExists(settings.table_name(table))
        assert not lake.exists(spark, settings, table)
    for table in [*current, users]:
        assert lake.read(spark, settings, table).count() == 1
    assert lake.drop_scratch_tables(spark, settings, staging_tables()) == []


def test_records_frame_names_a_missing_column(spark):
    contract = TableContract("t", "d", SILVER_DEMAND_HOURLY.columns[:2], ("source_id",))
    with pytest.raises(KeyError, match="t: record lacks columns \\['region_code'\\]"):
        lake.records_frame(spark, contract, [{"source_id": "s"}])


def test_a_deleted_lake_made_again_or_left_for_another_is_bound_afresh(spark, tmp_path):
    """A lake folder removed while its tables are registered (a benchmark or a user starting over): the same path
    made again starts empty, and another lake can be bound after it."""
    import shutil

    from databricks_jobs.tables import GOLD_BUILD_INPUTS

    record = {
        "table_name": "t",
        "inputs_fingerprint": "f",
        "inputs_json": "{}",
        "batch_id": "b",
        "built_at_utc": datetime(2026, 1, 1),
    }
    first, second = (LakeSettings(lake_root=str(tmp_path / name)) for name in ("first", "second"))
    for settings in (first, first, second):
        lake.append(spark, settings, GOLD_BUILD_INPUTS, lake.records_frame(spark, GOLD_BUILD_INPUTS, [record]))
        assert lake.read(spark, settings, GOLD_BUILD_INPUTS.name).count() == 1  # not the deleted lake's rows
        shutil.rmtree(settings.lake_root)
        assert not lake.exists(spark, settings, GOLD_BUILD_INPUTS.name)


def test_a_table_folder_deleted_in_a_session_is_gone_and_made_again(spark, tmp_path):
    """One table's folder removed while the session has it registered (a Gold table dropped to be rebuilt): it no
    longer exists, and the next write creates it afresh instead of failing on the missing files."""
    import shutil

    settings = LakeSettings(lake_root=str(tmp_path / "lake"))
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 3))
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 2, start_hour=5))
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).count() == 5
    shutil.rmtree(tmp_path / "lake" / SILVER_DEMAND_HOURLY.name)
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name) is None
    lake.append(spark, settings, SILVER_DEMAND_HOURLY, demand_rows(spark, 2))
    assert lake.read(spark, settings, SILVER_DEMAND_HOURLY.name).count() == 2


def test_few_rows_cross_the_driver_with_their_instants_and_nested_ones_are_not_collected(spark):
    # 2021-11-07 06:30 and 07:30 UTC are both 01:30 in Chicago (the repeated hour): they must stay two instants.
    frame = spark.sql(
        "SELECT * FROM VALUES (1, TIMESTAMP '2021-11-07 06:30:00'), (2, TIMESTAMP '2021-11-07 07:30:00'), (3, NULL)"
        " AS t(id, at_utc)"
    )
    collected = lake.collect_small(frame)
    assert collected is not None and collected.instants == {"at_utc"}
    back = lake.local_frame(spark, collected)
    assert back.schema == frame.schema
    micros = ("id", "unix_micros(at_utc) AS at")
    assert sorted(back.selectExpr(*micros).collect()) == sorted(frame.selectExpr(*micros).collect())
    assert [r.at for r in sorted(back.selectExpr(*micros).collect())] == [1636266600000000, 1636270200000000, None]

    assert lake.collect_small(frame, limit=2) is None  # more rows than the limit: the caller stages them
    # A TIMESTAMP inside an array, map or struct would reach Python as local wall-clock time: not collected.
    for nested in (
        "array(at_utc)",
        "map('k', at_utc)",
        "named_struct('at', at_utc)",
        "array(named_struct('a', at_utc))",
    ):
        assert lake.collect_small(frame.selectExpr("id", f"{nested} AS v")) is None, nested
    assert lake.collect_small(frame.selectExpr("id", "array(id) AS ids", "named_struct('n', id) AS s")) is not None


def _jobs_started(spark) -> int:
    ids = spark.sparkContext.statusTracker().getJobIdsForGroup()
    return max(ids) + 1 if ids else 0


def test_rows_held_by_the_driver_become_a_local_relation_with_their_types_and_are_checked(spark):
    import calendar
    from decimal import Decimal

    from pyspark.sql import Row

    schema = (
        "k string NOT NULL, at_utc timestamp, d date, energy_mwh decimal(38,9), ok boolean, tags array<string>, "
        "counts map<string,bigint>, s struct<x: int, y: string>, n int, f double"
    )
    naive_utc = datetime(2021, 11, 7, 6, 30)  # clock.utc_now's kind: naive, in UTC
    rows = [
        (
            "a",
            naive_utc,
            date(2024, 2, 29),
            Decimal("1.000000001"),
            True,
            ["x", None],
            {"p": 1},
            Row(x=1, y="z"),
            3,
            0.1,
        ),
        Row(k="b", at_utc=None, d=None, energy_mwh=None, ok=None, tags=None, counts=None, s=None, n=None, f=None),
    ]
    frame = lake.rows_frame(spark, rows, schema)
    assert frame.schema == spark.createDataFrame([], schema).schema
    before = _jobs_started(spark)
    back = frame.selectExpr("*", "unix_micros(at_utc) AS at_micros").collect()
    assert _jobs_started(spark) == before  # a local relation: read on the driver, no Spark job
    values = [(r.k, r.d, r.energy_mwh, r.ok, r.tags, r.counts, r.s, r.n, r.f) for r in back]
    assert values == [
        ("a", date(2024, 2, 29), Decimal("1.000000001"), True, ["x", None], {"p": 1}, Row(x=1, y="z"), 3, 0.1),
        ("b", None, None, None, None, None, None, None, None),
    ]
    # The naive datetime is the UTC instant, whatever time zone the driver's process runs in.
    assert back[0].at_micros == calendar.timegm(naive_utc.timetuple()) * 1_000_000

    with pytest.raises(ValueError, match=r"^column k: NOT NULL, but 1 of 2 rows hold null$"):
        lake.rows_frame(spark, [("a", *rows[0][1:]), (None, *rows[0][1:])], schema)
    with pytest.raises(TypeError, match=r"^column n \(int\): Could not convert '3' with type str"):
        lake.rows_frame(spark, [(*rows[0][:8], "3", 0.1)], schema)
    with pytest.raises(ValueError, match=r"^row 2: 1 values for the 2 columns \['a', 'b'\]$"):
        lake.rows_frame(spark, [("x", 1), ("y",)], "a string, b int")
    assert lake.rows_frame(spark, [], schema).count() == 0


def test_the_arrow_schema_of_driver_rows_is_asked_the_way_each_pyspark_asks(monkeypatch):
    """pyspark 4.0 (Databricks Runtime 17.3 LTS, which the bundle runs on) has to_arrow_schema(schema,
    error_on_duplicated_field_names_in_struct, timestamp_utc, prefers_large_types), instants in UTC by default; 4.1 and
    later replaced timestamp_utc by timezone, required for a TIMESTAMP. Both must give instants in UTC."""
    import pyarrow as pa
    from pyspark.sql.pandas import types as arrow_types
    from pyspark.sql.types import LongType, StructField, StructType, TimestampType

    struct = StructType([StructField("at_utc", TimestampType()), StructField("n", LongType())])
    expected = pa.schema([pa.field("at_utc", pa.timestamp("us", tz="UTC")), pa.field("n", pa.int64())])
    assert lake._arrow_schema(struct) == expected  # this environment's pyspark
    current = arrow_types.to_arrow_schema

    def pyspark_4_0(
        schema, error_on_duplicated_field_names_in_struct=False, timestamp_utc=True, prefers_large_types=False
    ):
        assert timestamp_utc
        return current(schema, timezone="UTC", prefers_large_types=prefers_large_types)

    monkeypatch.setattr(arrow_types, "to_arrow_schema", pyspark_4_0)
    assert lake._arrow_schema(struct) == expected
