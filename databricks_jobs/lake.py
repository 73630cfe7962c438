"""The lake's tables, by name: the one module that reads, creates and writes them.

On Databricks every table is a Unity Catalog managed table `catalog.schema.table` (Unity Catalog forbids tables
inside Volumes: "You can't define a table on any data files or directories within a volume", docs page "Path rules
and access in Unity Catalog volumes"). Locally the same names resolve in Spark's session catalog: the schema is bound
to the folder `lake_root`, each table is registered at `lake_root/<table>`, and the registration is made again in
every new Spark session (the session catalog lives in memory). Only that binding is local; every read and write goes
through the table's name, with DataFrame / SQL APIs that Spark Connect (serverless, standard access mode) supports.
"""

from __future__ import annotations

import inspect
import shutil
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from delta.exceptions import ConcurrentAppendException, ConcurrentDeleteDeleteException, ConcurrentDeleteReadException
from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StructType, TimestampType

from databricks_jobs.clock import from_utc_micros
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import (
    CHANGE_DATA_FEED_TABLES,
    CONTRACT_VERSION,
    SCRATCH_TABLE,
    STAGING_PREFIX,
    TableContract,
)

if TYPE_CHECKING:
    import pyarrow as pa

CHANGE_DATA_FEED = "delta.enableChangeDataFeed"
# What every table records of the contract it was made or last upgraded with (databricks_jobs/upgrade.py reads them).
VERSION_PROPERTY = "energy_platform.contract_version"
FINGERPRINT_PROPERTY = "energy_platform.contract_fingerprint"
PRIMARY_KEY_PROPERTY = "energy_platform.primary_key"

# Threads (Gold's builders, Silver's tables, the upgrade check) may register or create the same table at once, and
# the session catalog's IF NOT EXISTS is not atomic against a concurrent CREATE: one lock per table name, so different
# tables (each registration replays its Delta log) still go at once.
_SCHEMA_LOCK = threading.Lock()
_TABLE_LOCKS: dict[str, threading.RLock] = {}
# Per Spark session: schema -> the folder it is bound to (local catalog only).
_BOUND: weakref.WeakKeyDictionary[SparkSession, dict[str, str]] = weakref.WeakKeyDictionary()


def _sql_string(text: str) -> str:
    """A Spark SQL string literal (backslash escapes, as Spark reads them)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _local_folder(settings: LakeSettings) -> str:
    return str(Path(settings.lake_root).resolve())


def bind_local_schema(spark: SparkSession, settings: LakeSettings) -> None:
    """Local catalog only: the schema exists in this session and its table names point into `lake_root`.

    Every local table is registered with an explicit LOCATION, so the schema's own location holds nothing and a
    schema used for another folder earlier in the same session (tests use many lakes) is rebound by dropping its
    table registrations, which removes names, never files. The schema itself is never dropped: Spark's in-memory
    catalog deletes a dropped schema's folder.
    """
    if not settings.is_local_catalog:
        return
    folder = _local_folder(settings)
    bound = _BOUND.setdefault(spark, {})
    if bound.get(settings.schema) == folder and Path(folder).is_dir():
        return  # bound already (a lake folder deleted since is bound afresh: its registrations point nowhere)
    if spark.catalog.databaseExists(settings.namespace):
        for table in spark.catalog.listTables(settings.namespace):
            # tableType None: the catalog cannot load the table because its folder was deleted; only the name is left.
            if (table.tableType or "EXTERNAL").upper() != "EXTERNAL":
                raise RuntimeError(f"{settings.namespace}.{table.name} is {table.tableType}; refusing to unregister it")
            spark.sql(f"DROP TABLE {settings.namespace}.{table.name}")
    else:
        spark.sql(f"CREATE SCHEMA {settings.namespace}")
    Path(folder).mkdir(parents=True, exist_ok=True)
    bound[settings.schema] = folder


def _register_local(spark: SparkSession, settings: LakeSettings, table: str) -> bool:
    """Local catalog only: register a table found in `lake_root` (written by an earlier session). Whether it exists."""
    with _SCHEMA_LOCK:
        bind_local_schema(spark, settings)
    name = settings.table_name(table)
    with _table_lock(name):
        if _registered(spark, name):
            return True
        folder = Path(_local_folder(settings)) / table
        if not (folder / "_delta_log").is_dir():
            return False
        if _creation_cut_short(folder):
            # Nothing of a table is in it, and Delta refuses to create one there ("not empty and also not a Delta
            # table"): cleared, so the table is created afresh.
            shutil.rmtree(folder)
            return False
        spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(str(folder))}")
        return True


def _registered(spark: SparkSession, name: str) -> bool:
    """The session catalog has the table. A registration whose folder was deleted since (a table dropped to be
    rebuilt, in a long session) is only a name, and loading it fails: unregistered, which removes no file."""
    try:
        return spark.catalog.tableExists(name)
    except AnalysisException as error:
        if error.getCondition() != "DELTA_PATH_DOES_NOT_EXIST":
            raise
    spark.sql(f"DROP TABLE {name}")
    return False


def _creation_cut_short(folder: Path) -> bool:
    """A table folder left by a process killed while creating the table: a `_delta_log` holding no commit, checkpoint
    or staged commit (only temporary files, which Delta renames into a commit), and not one file outside it."""
    log = folder / "_delta_log"
    # Every registration asks: the log is listed first and the answer is almost always its first entry; the data
    # files (any number of them) are looked at only for a log without a commit.
    if any(p.name[:20].isdigit() or p.name == "_last_checkpoint" for p in log.rglob("*") if p.is_file()):
        return False
    return not any(p.is_file() and log not in p.parents for p in folder.rglob("*"))


def _table_lock(name: str) -> threading.RLock:
    with _SCHEMA_LOCK:
        return _TABLE_LOCKS.setdefault(name, threading.RLock())


def exists(spark: SparkSession, settings: LakeSettings, table: str) -> bool:
    if settings.is_local_catalog:
        return _register_local(spark, settings, table)
    return spark.catalog.tableExists(settings.table_name(table))


def read(spark: SparkSession, settings: LakeSettings, table: str) -> DataFrame | None:
    """The table, or None when it has not been created yet."""
    return spark.read.table(settings.table_name(table)) if exists(spark, settings, table) else None


def read_or_empty(spark: SparkSession, settings: LakeSettings, contract: TableContract) -> DataFrame:
    """The table, or an empty frame of its contract's schema."""
    frame = read(spark, settings, contract.name)
    return frame if frame is not None else rows_frame(spark, [], contract.spark_schema())


def version_properties(contract: TableContract) -> str:
    """TBLPROPERTIES entries of a table made or upgraded with this contract."""
    return (
        f"'{VERSION_PROPERTY}' = '{CONTRACT_VERSION}', '{FINGERPRINT_PROPERTY}' = '{contract.fingerprint}', "
        f"'{PRIMARY_KEY_PROPERTY}' = '{','.join(contract.primary_key)}'"
    )


def create_table_sql(settings: LakeSettings, contract: TableContract) -> str:
    """CREATE TABLE IF NOT EXISTS from the contract: columns with types, NOT NULL and comments; liquid clustering;
    the table's comment; the contract version it was made with. Locally the table gets its folder under lake_root
    as LOCATION; on Unity Catalog none (a managed table)."""
    columns = ",\n  ".join(
        f"`{c.name}` {c.type.upper()}{'' if c.nullable else ' NOT NULL'}"
        + (f" COMMENT {_sql_string(c.description)}" if c.description else "")
        for c in contract.columns
    )
    parts = [f"CREATE TABLE IF NOT EXISTS {settings.table_name(contract.name)} (\n  {columns}\n) USING DELTA"]
    if contract.cluster_by:
        parts.append(f"CLUSTER BY ({', '.join(f'`{c}`' for c in contract.cluster_by)})")
    parts.append(f"COMMENT {_sql_string(contract.description)}")
    feed = f"'{CHANGE_DATA_FEED}' = 'true', " if contract.name in CHANGE_DATA_FEED_TABLES else ""
    parts.append(f"TBLPROPERTIES ({feed}{version_properties(contract)})")
    if settings.is_local_catalog:
        parts.append(f"LOCATION {_sql_string(str(Path(_local_folder(settings)) / contract.name))}")
    return "\n".join(parts)


def ensure_table(spark: SparkSession, settings: LakeSettings, contract: TableContract) -> None:
    """Create the table from its contract unless it exists (Unity Catalog: a managed table in catalog.schema)."""
    # Under the table's lock: two threads creating it at once would both commit its first version.
    with _table_lock(settings.table_name(contract.name)):
        if not exists(spark, settings, contract.name):
            spark.sql(create_table_sql(settings, contract))


def append(spark: SparkSession, settings: LakeSettings, contract: TableContract, rows: DataFrame) -> None:
    """Append rows (columns matched by name) to the table, creating it from its contract first if needed."""
    ensure_table(spark, settings, contract)
    rows.writeTo(settings.table_name(contract.name)).append()


def overwrite(
    spark: SparkSession,
    settings: LakeSettings,
    contract: TableContract,
    rows: DataFrame,
    where: Column | None = None,
) -> None:
    """Replace the rows matching `where` (all rows when None) with `rows`, in one commit; the table's definition
    (comments, clustering, constraints) stays."""
    ensure_table(spark, settings, contract)
    name = settings.table_name(contract.name)
    rows.writeTo(name).overwrite(where if where is not None else F.lit(True))
    if where is None and contract.cluster_by:
        # A whole-table overwrite resets liquid clustering (seen with delta-spark 4.4); set it again (metadata only).
        spark.sql(f"ALTER TABLE {name} CLUSTER BY ({', '.join(f'`{c}`' for c in contract.cluster_by)})")


@dataclass(frozen=True)
class TableMetadata:
    """What a Delta table's last commit says of it, without its file list: id, comment, properties, commit time."""

    table_id: str
    description: str
    properties: dict[str, str]
    last_modified_utc: str  # ISO 8601 with milliseconds, as DESCRIBE DETAIL's lastModified in a UTC session


@dataclass(frozen=True)
class TableState:
    """A Delta table's identity and last commit time: any commit changes `last_modified_utc`, and a re-created table
    has another id."""

    table_id: str
    last_modified_utc: str
    change_data_feed: bool


def detail(spark: SparkSession, settings: LakeSettings, table: str) -> Row | None:
    """The table's DESCRIBE DETAIL row (id, lastModified, description, clusteringColumns, properties, ...): metadata
    from the Delta log, no data read. None when the table does not exist."""
    if not exists(spark, settings, table):
        return None
    return spark.sql(f"DESCRIBE DETAIL {settings.table_name(table)}").first()


def _iso_millis(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _local_metadata(spark: SparkSession, settings: LakeSettings, table: str) -> TableMetadata:
    """Local catalog: the table's snapshot as Delta's own DeltaLog loads it (protocol and metadata only).

    Why not DESCRIBE DETAIL here: with delta-spark 4.4, a process's first load of a table by name reconstructs the
    table's whole state (3 Spark jobs, ~1 s) for its clustering columns (DeltaTableV2.clusterBySpec ->
    Snapshot.domainMetadata), so a new process's checks of 31 tables cost 30-40 s; the snapshot's metadata is the
    same commit's, read in milliseconds. The DeltaLog is Delta's cached one, so a later read by name reuses it.
    """
    path = str(Path(_local_folder(settings)) / table)
    snapshot = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTableWithSnapshot(spark._jsparkSession, path)._2()
    metadata = snapshot.metadata()
    description = metadata.description()
    committed = datetime.fromtimestamp(snapshot.timestamp() / 1000, UTC).replace(tzinfo=None)
    return TableMetadata(
        str(metadata.id()),
        "" if description is None else str(description),
        {
            str(k): str(v)
            for k, v in spark._jvm.scala.jdk.javaapi.CollectionConverters.asJava(metadata.configuration()).items()
        },
        _iso_millis(committed),
    )


def metadata(spark: SparkSession, settings: LakeSettings, table: str) -> TableMetadata | None:
    """The table's id, comment, properties and last commit time; None when it does not exist. DESCRIBE DETAIL on
    Unity Catalog; locally the same values from Delta's snapshot (see _local_metadata)."""
    if not exists(spark, settings, table):
        return None
    if settings.is_local_catalog and getattr(spark, "_jvm", None) is not None:
        return _local_metadata(spark, settings, table)
    return described_metadata(spark.sql(f"DESCRIBE DETAIL {settings.table_name(table)}"))


def described_metadata(detail: DataFrame) -> TableMetadata:
    """DESCRIBE DETAIL's answer as TableMetadata; the commit time crosses as microseconds, because PySpark collects a
    TIMESTAMP as the client's local wall-clock time."""
    row = detail.select("id", "description", "properties", F.unix_micros("lastModified").alias("micros")).first()
    committed = from_utc_micros(row["micros"])
    return TableMetadata(
        str(row["id"]), row["description"] or "", dict(row["properties"] or {}), _iso_millis(committed)
    )


def table_state(spark: SparkSession, settings: LakeSettings, table: str) -> TableState | None:
    """The table's id, last commit time and whether its change data feed is on; None when it does not exist."""
    found = metadata(spark, settings, table)
    if found is None:
        return None
    return TableState(found.table_id, found.last_modified_utc, found.properties.get(CHANGE_DATA_FEED) == "true")


def latest_version(spark: SparkSession, settings: LakeSettings, table: str) -> int:
    """The table's latest Delta version (the table must exist)."""
    return int(spark.sql(f"DESCRIBE HISTORY {settings.table_name(table)} LIMIT 1").first()["version"])


def enable_change_data_feed(spark: SparkSession, settings: LakeSettings, table: str) -> None:
    """Turn the change data feed on for a table created before it was in the contract (one metadata commit)."""
    spark.sql(f"ALTER TABLE {settings.table_name(table)} SET TBLPROPERTIES ('{CHANGE_DATA_FEED}' = 'true')")


def changes(spark: SparkSession, settings: LakeSettings, table: str, after_version: int, to_version: int) -> DataFrame:
    """The table's change data feed for the commits after `after_version` up to `to_version` (both must be > after):
    the table's columns plus _change_type (insert, delete, update_preimage, update_postimage) and _commit_version."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", to_version)
        .table(settings.table_name(table))
    )


def of_file_versions(versions: Iterable[tuple[str, str]], held: Iterable[tuple[str, str]] = ()) -> Column:
    """Rows whose lineage is one of these (source_file, content_hash) file versions (Bronze, Silver, quarantine).

    `source_file IN (files) AND content_hash IN (hashes)`: Spark's optimiser checks each IN against a hash set, where
    one (file AND hash) term per version made every row of a 2,000-file batch walk 2,000 terms (265 s of a 346 s
    Bronze run). The two lists also pair a file of the set with another file's hash: exact unless a version the table
    holds (`held`: the file log's versions) is such a pair, which happens when a file's older content equals another
    file's new content. The files of such pairs get one (file AND hash) term each, OR-ed as a balanced tree. Rows no
    log holds (an attempt that crashed before its log entry) may match too: they are what a retry replaces.
    """
    versions = set(versions)
    files, hashes = {f for f, _ in versions}, {h for _, h in versions}
    ambiguous = {f for f, h in held if f in files and h in hashes and (f, h) not in versions}
    clean = sorted(v for v in versions if v[0] not in ambiguous)
    terms = [(F.col("source_file") == f) & (F.col("content_hash") == h) for f, h in sorted(versions - set(clean))]
    if clean:
        in_files = F.col("source_file").isin(sorted({f for f, _ in clean}))
        terms.append(in_files & F.col("content_hash").isin(sorted({h for _, h in clean})))
    if not terms:
        return F.lit(False)
    while len(terms) > 1:
        terms = [terms[i] | terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def rows_of_file_versions(spark: SparkSession, rows: DataFrame, versions: Iterable[tuple[str, str]]) -> DataFrame:
    """The rows of `rows` whose (source_file, content_hash) is one of `versions`, exactly: the IN lists skip data
    files, a broadcast semi-join drops a row pairing one version's file with another's hash."""
    versions = sorted(set(versions))
    if not versions:
        return rows.where(F.lit(False))
    wanted = rows_frame(spark, versions, "source_file string, content_hash string")
    return rows.where(of_file_versions(versions)).join(
        F.broadcast(wanted), ["source_file", "content_hash"], "left_semi"
    )


def records_frame(spark: SparkSession, contract: TableContract, records: Iterable[Mapping[str, object]]) -> DataFrame:
    """Rows given as {column: value} mappings, as a frame of the contract's schema (a missing column is an error)."""
    names = contract.column_names
    rows = []
    for record in records:
        missing = [n for n in names if n not in record]
        if missing:
            raise KeyError(f"{contract.name}: record lacks columns {missing}")
        rows.append(tuple(record[n] for n in names))
    return rows_frame(spark, rows, contract.spark_schema())


# What another writer's commit can make a DELETE or MERGE fail with (docs page "Isolation levels and write conflicts on
# Databricks"): the operation read files that a concurrent commit added, removed or rewrote. Blind appends conflict
# with nothing under the default WriteSerializable isolation.
WRITE_CONFLICTS = (ConcurrentAppendException, ConcurrentDeleteReadException, ConcurrentDeleteDeleteException)
CONFLICT_ATTEMPTS = 4


def retry_on_conflict(operation: Callable[[], object], what: str) -> None:
    """Runs an idempotent table operation (a DELETE by predicate, an insert-only MERGE), again on the table's new
    version when a concurrent commit conflicts with it: done after that commit, it does what it means to."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            operation()
            return
        except WRITE_CONFLICTS as conflict:
            if attempt == CONFLICT_ATTEMPTS:
                raise RuntimeError(f"{what}: {attempt} attempts each met a concurrent commit; run again") from conflict


def delta_table(spark: SparkSession, settings: LakeSettings, table: str) -> DeltaTable:
    """The table for MERGE / DELETE; it must exist."""
    if not exists(spark, settings, table):
        raise LookupError(f"table {settings.table_name(table)} does not exist")
    return DeltaTable.forName(spark, settings.table_name(table))


# Rows up to this many (a day's or a month's keys, a new day's changes: tens to hundreds) are materialised on the
# driver; more go through a staging table (stage). A day's Gold ran 13 of each table's ~52 Spark jobs writing and
# reading its staging table, and the export about 10 per changed table (bench/RESULTS.md).
DRIVER_ROWS = 10_000


class Collected(NamedTuple):
    """Rows on the driver, TIMESTAMP columns (`instants`) as microseconds since the epoch, and their schema."""

    rows: list[Row]
    schema: StructType
    instants: frozenset[str]


def collect_small(rows: DataFrame, limit: int | None = None) -> Collected | None:
    """`rows` computed once onto the driver, or None when there are more than `limit` (DRIVER_ROWS) or a TIMESTAMP
    sits inside an array, map or struct."""
    limit = DRIVER_ROWS if limit is None else limit
    # PySpark gives TIMESTAMP values as the driver machine's local wall-clock time, ambiguous in an autumn's repeated
    # hour there: they cross as microseconds since the epoch. Only top-level ones can: rows with a TIMESTAMP inside an
    # array, map or struct are not collected (the caller stages them).
    if any(_holds_timestamp(f.dataType) for f in rows.schema.fields if not isinstance(f.dataType, TimestampType)):
        return None
    instants = frozenset(f.name for f in rows.schema.fields if isinstance(f.dataType, TimestampType))
    crossing = rows.select([F.unix_micros(F.col(c)).alias(c) if c in instants else F.col(c) for c in rows.columns])
    collected = crossing.limit(limit + 1).collect()
    return None if len(collected) > limit else Collected(collected, crossing.schema, instants)


def _holds_timestamp(data_type: DataType) -> bool:
    """`data_type` is a TIMESTAMP or holds one in an array, map or struct."""
    if isinstance(data_type, ArrayType):
        return _holds_timestamp(data_type.elementType)
    if isinstance(data_type, MapType):
        return _holds_timestamp(data_type.keyType) or _holds_timestamp(data_type.valueType)
    if isinstance(data_type, StructType):
        return any(_holds_timestamp(f.dataType) for f in data_type.fields)
    return isinstance(data_type, TimestampType)


def rows_frame(spark: SparkSession, rows: Iterable[Sequence[object]], schema: StructType | str) -> DataFrame:
    """Rows held by the driver (tuples or Rows, in the schema's column order) as a DataFrame of `schema` (a StructType
    or a DDL string): a local relation, sent as Arrow. Spark plans a local relation on the driver, so reading,
    filtering or broadcasting it runs no Spark job, where classic Spark parallelizes a list given to createDataFrame
    (a job at each use; Spark Connect sends local rows as a local relation either way). A value of the wrong type, or
    a null in a NOT NULL column, is refused naming the column, as createDataFrame's schema check would."""
    import pyarrow as pa  # with pyspark's Arrow support: a dependency of the wheel, and on every Databricks runtime

    struct = schema if isinstance(schema, StructType) else StructType.fromDDL(schema)
    arrow = _arrow_schema(struct)
    rows = list(rows)
    width = len(struct.fields)
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"row {number}: {len(row)} values for the {width} columns {struct.names}")
    columns = []
    for i, (field, arrow_field) in enumerate(zip(struct.fields, arrow, strict=True)):
        values = [row[i] for row in rows]
        try:
            column = pa.array(values, type=arrow_field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
            raise TypeError(f"column {field.name} ({field.dataType.simpleString()}): {error}") from None
        if not field.nullable and column.null_count:
            raise ValueError(f"column {field.name}: NOT NULL, but {column.null_count} of {len(rows)} rows hold null")
        columns.append(column)
    return spark.createDataFrame(pa.Table.from_arrays(columns, schema=arrow), struct)


def _arrow_schema(struct: StructType) -> pa.Schema:
    """The Arrow schema of `struct`, instants in UTC: a naive datetime is then UTC wall-clock time (clock.utc_now),
    whatever the driver's time zone. pyspark 4.0 (Databricks Runtime 17.3 LTS) converts TIMESTAMP to UTC by default
    (its `timestamp_utc`); 4.1 and later ask for the zone (`timezone`)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    if "timezone" in inspect.signature(to_arrow_schema).parameters:
        return to_arrow_schema(struct, timezone="UTC")
    return to_arrow_schema(struct)


def local_frame(spark: SparkSession, collected: Collected) -> DataFrame:
    """The collected rows as a DataFrame with the types they had, a local relation (rows_frame): no file is read
    again, and no job runs to read them."""
    local = rows_frame(spark, collected.rows, collected.schema)
    instants = collected.instants
    return local.select([F.timestamp_micros(F.col(c)).alias(c) if c in instants else F.col(c) for c in local.columns])


def stage(spark: SparkSession, settings: LakeSettings, table: str, rows: DataFrame) -> DataFrame:
    """Write rows once to a scratch table (schema of the rows, replaced every time) and read them back: what the
    pipeline materialises so an expensive plan runs once. Databricks recommends Delta tables for this on serverless
    (DataFrame.cache / localCheckpoint are not available there)."""
    bind_local_schema(spark, settings)
    writer = rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if settings.is_local_catalog:
        writer = writer.option("path", str(Path(_local_folder(settings)) / table))
    writer.saveAsTable(settings.table_name(table))
    return spark.read.table(settings.table_name(table))


def maintain(
    spark: SparkSession, settings: LakeSettings, tables: Sequence[str], retain_hours: int
) -> dict[str, dict[str, int]]:
    """OPTIMIZE (clusters liquid-clustered tables, compacts small files) then VACUUM with `retain_hours` of
    history kept, for each existing table; returns per table the files OPTIMIZE added and removed."""
    if retain_hours < 168:
        # Delta's safety check: readers and time travel within 7 days must still find their files.
        raise ValueError(f"retain_hours {retain_hours} is below Delta's 168-hour (7-day) minimum")
    results = {}
    for table in tables:
        if not exists(spark, settings, table):
            continue
        name = settings.table_name(table)
        metrics = spark.sql(f"OPTIMIZE {name}").select("metrics.numFilesAdded", "metrics.numFilesRemoved").first()
        spark.sql(f"VACUUM {name} RETAIN {int(retain_hours)} HOURS").collect()
        results[table] = {"files_added": int(metrics[0] or 0), "files_removed": int(metrics[1] or 0)}
    return results


def _scratch_tables(spark: SparkSession, settings: LakeSettings) -> list[str]:
    """The lake's scratch tables (lake.stage), whichever release wrote them."""
    if settings.is_local_catalog:
        folder = Path(_local_folder(settings))
        names = [p.name for p in folder.glob(f"{STAGING_PREFIX}*") if (p / "_delta_log").is_dir()]
    else:
        # Listed by pattern (the schema may hold many tables); the listing includes temporary views, which are not ours.
        listed = spark.catalog.listTables(settings.namespace, f"{STAGING_PREFIX}*")
        names = [t.name for t in listed if not t.isTemporary]
    return [name for name in names if SCRATCH_TABLE.fullmatch(name)]


def drop_scratch_tables(spark: SparkSession, settings: LakeSettings, kept: frozenset[str]) -> list[str]:
    """Drops the scratch tables not in `kept` (those an earlier release wrote, which nothing reads again) and, on the
    local catalog, where tables are external, their folders. Returns their names."""
    bind_local_schema(spark, settings)
    dropped = sorted(set(_scratch_tables(spark, settings)) - kept)
    for table in dropped:
        spark.sql(f"DROP TABLE IF EXISTS {settings.table_name(table)}")
        if settings.is_local_catalog:
            shutil.rmtree(Path(_local_folder(settings)) / table)
    return dropped
