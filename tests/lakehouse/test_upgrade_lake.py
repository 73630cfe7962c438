"""The lake upgrade on small Delta tables: additive changes applied in place with every row kept, destructive ones
refused before anything is written, a Bronze table from before `raw_fields` was removed refused by the mechanism."""

from __future__ import annotations

from dataclasses import replace

import pytest

from databricks_jobs import lake
from databricks_jobs.progress import quiet
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import CONTRACT_VERSION, Column, TableContract, bronze_raw_rows
from databricks_jobs.upgrade import UpgradeRefused, plan_lake, read_stored, upgrade_lake

pytestmark = pytest.mark.spark

V0 = TableContract(
    "gold_upgrade_test__daily",
    "Test table, first release.",
    (
        Column("region_code", "string", False),
        Column("reads", "int", False, "reads counted"),
        Column("note", "string", True),
    ),
    ("region_code",),
    ("region_code",),
)
# The next release: `reads` widened, a nullable column, a NOT NULL column with a backfill, new comments, no clustering.
V1 = replace(
    V0,
    description="Test table, second release.",
    columns=(
        V0.columns[0],
        Column("reads", "bigint", False, "reads counted (all of them)"),
        V0.columns[2],
        Column("energy_mwh", "double", True),
        Column("is_busy", "boolean", False, "more than one read", backfill="reads > 1"),
    ),
    cluster_by=(),
)
OTHER = TableContract("silver_upgrade_test__other", "Other.", (Column("k", "string", False),), ("k",))
ROWS = [("A", 1, "x"), ("B", 2, None), ("C", 3, "z")]


def make_lake(spark, tmp_path, schema: str) -> LakeSettings:
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema=schema)
    lake.append(spark, settings, V0, spark.createDataFrame(ROWS, V0.spark_schema()))
    lake.append(spark, settings, OTHER, spark.createDataFrame([("k1",)], OTHER.spark_schema()))
    return settings


def rows(spark, settings, table: str) -> list[tuple]:
    return sorted(tuple(r) for r in lake.read(spark, settings, table).collect())


def test_additive_changes_are_applied_in_place_and_keep_every_row(spark, tmp_path):
    settings = make_lake(spark, tmp_path, "upgrade_additive_test")
    dry = upgrade_lake(spark, settings, [V1, OTHER], apply=False, log=quiet)
    assert rows(spark, settings, V0.name) == sorted(ROWS)  # a dry run changes nothing
    assert [c.what for c in dry[0].changes] == [
        "widen column reads int -> bigint",
        "column reads comment changed",
        "add column energy_mwh DOUBLE (nullable)",
        "add column is_busy BOOLEAN NOT NULL, existing rows backfilled with reads > 1",
        "table comment changed",
        "clustering (region_code) -> ()",
        f"record contract version {CONTRACT_VERSION} (fingerprint {V1.fingerprint})",
    ]
    assert [c.what for c in dry[1].changes] == []  # made by this code: up to date

    upgrade_lake(spark, settings, [V1, OTHER], log=quiet)

    name = settings.table_name(V0.name)
    stored = read_stored(spark, settings, V0.name)
    assert {column: (kind, nullable) for column, (kind, nullable, _) in stored.columns.items()} == {
        "region_code": ("string", False),
        "reads": ("bigint", False),
        "note": ("string", True),
        "energy_mwh": ("double", True),
        "is_busy": ("boolean", False),  # a Delta CHECK constraint: Spark refuses SET NOT NULL on an existing column
    }
    with pytest.raises(Exception, match="is_busy_is_not_null"):
        spark.sql(f"INSERT INTO {name} VALUES ('D', 4, NULL, NULL, NULL)").collect()
    # Every row kept, values unchanged; the backfill computed from each row (hand-checked: reads > 1).
    assert rows(spark, settings, V0.name) == [
        ("A", 1, "x", None, False),
        ("B", 2, None, None, True),
        ("C", 3, "z", None, True),
    ]
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail["description"] == V1.description and list(detail["clusteringColumns"]) == []
    assert detail["properties"]["energy_platform.contract_fingerprint"] == V1.fingerprint
    assert detail["properties"]["energy_platform.contract_version"] == str(CONTRACT_VERSION)
    assert [p.changes for p in plan_lake(spark, settings, [V1, OTHER])] == [[], []]
    assert read_stored(spark, settings, V0.name, V1).columns is None  # up to date: its schema is not read


def test_a_destructive_change_is_refused_before_anything_is_written(spark, tmp_path):
    settings = make_lake(spark, tmp_path, "upgrade_refused_test")
    versions = {t: lake.latest_version(spark, settings, t) for t in (V0.name, OTHER.name)}
    # `note` dropped and `reads` narrowed to... a string; the other table gains a column that alone would apply.
    dropped = replace(V0, columns=(V0.columns[0], Column("reads", "string", False, "reads counted")))
    other = replace(OTHER, columns=(*OTHER.columns, Column("extra", "string", True)))
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_lake(spark, settings, [dropped, other], log=quiet)
    message = str(refused.value)
    assert "nothing was changed" in message
    assert "gold_upgrade_test__daily: column note is stored but not in the contract (dropped or renamed)" in message
    assert "gold_upgrade_test__daily: column reads type int -> string" in message
    assert "DROP TABLE gold_upgrade_test__daily, then run the pipeline with --full-refresh" in message
    assert {t: lake.latest_version(spark, settings, t) for t in versions} == versions
    assert rows(spark, settings, V0.name) == sorted(ROWS)
    assert [f.name for f in lake.read(spark, settings, OTHER.name).schema.fields] == ["k"]


def test_a_new_not_null_column_without_backfill_is_refused(spark, tmp_path):
    settings = make_lake(spark, tmp_path, "upgrade_no_backfill_test")
    needs = replace(V0, columns=(*V0.columns, Column("is_busy", "boolean", False)))
    with pytest.raises(UpgradeRefused, match="new NOT NULL column is_busy without a declared backfill"):
        upgrade_lake(spark, settings, [needs], log=quiet)


def test_bronze_from_before_raw_fields_was_removed_is_refused_by_the_upgrade(spark, tmp_path):
    """Bronze as commit 1cdc3c2 left it: raw_fields map<string,string> NOT NULL, field_count without its comment.
    The new Bronze append would fail inside Spark on the NOT NULL column; the upgrade refuses first, with the way."""
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="upgrade_old_bronze_test")
    current = bronze_raw_rows("eia930")
    old_columns = list(current.columns)
    old_columns.insert(5, Column("raw_fields", "map<string,string>", False, "header name -> raw string"))
    old_columns[6] = Column("field_count", "int", False)
    old = replace(current, columns=tuple(old_columns))
    lake.ensure_table(spark, settings, old)
    # The old code wrote no contract properties: take them off, as a table made before contract versions.
    name = settings.table_name(old.name)
    spark.sql(
        f"ALTER TABLE {name} UNSET TBLPROPERTIES ('energy_platform.contract_version', "
        "'energy_platform.contract_fingerprint', 'energy_platform.primary_key')"
    )
    version = lake.latest_version(spark, settings, old.name)
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_lake(spark, settings, [current], log=quiet)
    message = str(refused.value)
    assert "bronze_eia930__raw_rows: column raw_fields is stored but not in the contract" in message
    assert "rebuild Bronze from the raw files" in message
    assert "field_count comment" not in message  # only refusals are listed
    assert lake.latest_version(spark, settings, old.name) == version
