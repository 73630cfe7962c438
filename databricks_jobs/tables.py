"""Table contracts: every Silver and Gold table's name, columns (with units in the names), types and key.

One place that the Gold writers, the export manifest, the Snowflake DDL tests and the app agree on.
Naming follows PUDL: `{layer}_{subject}__{grain}[_{name}]`; `*_utc` are instants (Spark TIMESTAMP, UTC),
`*_local` are wall-clock times in the region's time zone (TIMESTAMP_NTZ) or local calendar dates.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from dataclasses import dataclass, field, replace
from enum import StrEnum

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

# The contract's type names as Spark types, without asking the JVM (pyspark's parser does; Spark Connect has none).
SPARK_TYPES: dict[str, DataType] = {
    "string": StringType(),
    "double": DoubleType(),
    "int": IntegerType(),
    "bigint": LongType(),
    "boolean": BooleanType(),
    "date": DateType(),
    "timestamp": TimestampType(),
    "timestamp_ntz": TimestampNTZType(),
    "map<string,string>": MapType(StringType(), StringType()),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL type name: string, double, int, bigint, boolean, date, timestamp, timestamp_ntz
    nullable: bool = True
    description: str = ""
    # A NOT NULL column added to a table that has rows needs their value: a SQL expression over the table's other
    # columns (Spark and Snowflake SQL alike), applied by the upgrade. Not part of the contract's fingerprint.
    backfill: str | None = None


@dataclass(frozen=True)
class TableContract:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    cluster_by: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def spark_schema(self) -> StructType:
        return StructType([StructField(c.name, SPARK_TYPES[c.type], c.nullable) for c in self.columns])

    @property
    def fingerprint(self) -> str:
        """What the table is made of (columns, types, nullability, comments, key, clustering), hashed: any change
        to the contract changes it; a stored table records the fingerprint it was made or last upgraded with."""
        text = json.dumps(
            [
                self.name,
                self.description,
                [[c.name, c.type, c.nullable, c.description] for c in self.columns],
                list(self.primary_key),
                list(self.cluster_by),
            ]
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# Fields shared by several tables, declared once (as PUDL's metadata/fields.py does): a table names a shared field,
# or overrides its description or nullability with _field(); a column only one table has is written out in place.
def _fields(kind: str, nullable: bool, *names: str) -> tuple[Column, ...]:
    return tuple(Column(name, kind, nullable) for name in names)


FIELDS: dict[str, Column] = {
    column.name: column
    for column in (
        *_fields("string", False, "source_id", "region_code", "source_file", "content_hash", "station_id", "event_id"),
        *_fields("string", False, "reason", "table_name", "time_zone"),
        *_fields("string", True, "cause", "device", "feeder_id"),
        *_fields("date", False, "date_local", "month_start_date"),
        *_fields("timestamp", False, "ingested_at_utc", "interval_start_utc", "started_at_utc"),
        *_fields("bigint", False, "source_row_number", "rows_in", "rows_kept", "rows_quarantined"),
        *_fields("bigint", False, "rows_exact_duplicate", "events_excluded_unknown_customers"),
        *_fields("int", False, "hour_local", "hours_reported"),
        *_fields("double", False, "temperature_c"),
        *_fields("double", True, "duration_minutes"),
        *_fields("boolean", False, "is_customers_unknown", "is_imputed", "is_major_event_day", "is_momentary"),
        *_fields("boolean", False, "is_med_threshold_provisional", "is_open"),
        Column("customers_affected", "bigint", True, "null when the source says unknown"),
        Column("customers_served", "bigint", True, "N_T, reference data for the region and year (null: none sourced)"),
        Column("events_excluded_unknown_restoration", "bigint", False, "interruptions counted without minutes"),
        Column("restored_at_utc", "timestamp", True, "null while the event is open or when its restoration is unknown"),
        Column("batch_id", "string", False, "pipeline batch that produced the row"),
    )
}


def _field(name: str, description: str | None = None, *, nullable: bool | None = None) -> Column:
    """A shared field with this table's own description or nullability."""
    base = FIELDS[name]
    return replace(
        base,
        description=base.description if description is None else description,
        nullable=base.nullable if nullable is None else nullable,
    )


def _cols(*specs: str | Column | tuple) -> tuple[Column, ...]:
    """A table's columns: a shared field's name, a Column (from _field), or (name, type, nullable, description)."""
    return tuple(
        FIELDS[spec] if isinstance(spec, str) else spec if isinstance(spec, Column) else Column(*spec) for spec in specs
    )


BATCH = "batch_id"

SILVER_DEMAND_HOURLY = TableContract(
    "silver_demand__hourly",
    "Hourly demand per source and region, aligned to UTC hour-beginning intervals.",
    _cols(
        "source_id",
        "region_code",
        _field("interval_start_utc", "start of the hour (UTC)"),
        ("interval_end_utc", "timestamp", False),
        (
            "demand_mw",
            "double",
            True,
            "usable value: as reported, or cleaned/imputed where the source says so",
        ),
        (
            "reported_demand_mw",
            "double",
            True,
            "the value exactly as reported (null where the source had none)",
        ),
        (
            "imputation_category",
            "string",
            True,
            "the source's data-quality category (EIA-930 cleaning), if any",
        ),
        "is_imputed",
        "source_file",
        "source_row_number",
        BATCH,
    ),
    ("source_id", "region_code", "interval_start_utc"),
    ("region_code", "interval_start_utc"),
)

SILVER_WEATHER_HOURLY = TableContract(
    "silver_weather__hourly",
    "Hourly air temperature per weather station, UTC hour-beginning.",
    _cols(
        "source_id",
        "station_id",
        "region_code",
        "interval_start_utc",
        "temperature_c",
        "source_file",
        "source_row_number",
        BATCH,
    ),
    ("source_id", "station_id", "interval_start_utc"),
    ("station_id", "interval_start_utc"),
)

SILVER_OUTAGE_EVENTS = TableContract(
    "silver_outages__events",
    "Outage events per source, typed and UTC; one row per event (overlapping exports merged once).",
    _cols(
        "source_id",
        _field("event_id", "the source's id, or a stable hash of the event's fields when it has none"),
        "region_code",
        "feeder_id",
        "started_at_utc",
        "restored_at_utc",
        _field("duration_minutes", "null while the event is open or when its restoration is unknown"),
        "customers_affected",
        "is_customers_unknown",
        _field("is_momentary", "duration <= the source's momentary threshold (default 5 minutes)"),
        "is_open",
        (
            "is_restoration_unknown",
            "boolean",
            False,
            "restored, but the source does not say when ('Unknown', a date without a time)",
        ),
        "cause",
        "device",
        ("region_reported", "string", True, "the region as the source wrote it (e.g. multi-valued 'SERC/RF')"),
        ("area_affected", "string", True, "free-text area (OE-417 'State: County;')"),
        "source_file",
        "source_row_number",
        BATCH,
    ),
    ("source_id", "event_id"),
)

SILVER_QUARANTINE = TableContract(
    "silver__quarantine",
    "Every raw row that could not be used, with the reason. Nothing is dropped silently.",
    _cols(
        "source_id",
        "source_file",
        "source_row_number",
        ("source_column", "string", False, "the value column of a wide file (one row per cell); '' for long rows"),
        _field("reason", "machine-readable reason code, e.g. unparseable_timestamp"),
        ("detail", "string", True, "human-readable detail: column, value, expectation"),
        ("raw_record", "string", True, "the raw row as JSON"),
        BATCH,
    ),
    ("source_id", "source_file", "source_row_number", "source_column", "reason"),
    ("source_id", "source_file"),
)

GOLD_DEMAND_DAILY = TableContract(
    "gold_demand__daily",
    "Daily demand per source, region and local calendar day (23/24/25-hour days on DST changes).",
    _cols(
        "source_id",
        "region_code",
        _field("date_local", "calendar day in the region's time zone"),
        "time_zone",
        ("energy_mwh", "double", True, "sum of hourly demand over the hours reported"),
        ("peak_demand_mw", "double", True),
        ("peak_interval_start_utc", "timestamp", True),
        ("peak_interval_start_local", "timestamp_ntz", True),
        ("min_demand_mw", "double", True),
        ("avg_demand_mw", "double", True),
        ("load_factor", "double", True, "avg / peak over the day (0..1)"),
        "hours_reported",
        ("hours_expected", "int", False, "23, 24 or 25"),
        ("completeness_pct", "double", False, "100 * hours_reported / hours_expected"),
        ("imputed_hours", "int", False),
        BATCH,
    ),
    ("source_id", "region_code", "date_local"),
    ("region_code", "date_local"),
)

GOLD_DEMAND_HOURLY_PROFILE = TableContract(
    "gold_demand__hourly_profile",
    "Typical hourly load shape per source, region, month, day type and local hour.",
    _cols(
        "source_id",
        "region_code",
        ("month", "int", False, "1..12, local calendar"),
        ("day_type", "string", False, "weekday | weekend"),
        _field("hour_local", "0..23, hour beginning, local"),
        ("mean_demand_mw", "double", True),
        ("p95_demand_mw", "double", True),
        ("hours_count", "int", False),
        BATCH,
    ),
    ("source_id", "region_code", "month", "day_type", "hour_local"),
    ("region_code", "month"),
)

GOLD_DEMAND_HOURLY_WEATHER = TableContract(
    "gold_demand__hourly_weather",
    "Hourly demand with local calendar fields, joined to the region's weather station temperature.",
    _cols(
        "source_id",
        "region_code",
        "interval_start_utc",
        ("interval_start_local", "timestamp_ntz", False),
        "date_local",
        "hour_local",
        ("demand_mw", "double", True),
        "is_imputed",
        _field("station_id", nullable=True),
        _field("temperature_c", nullable=True),
        BATCH,
    ),
    ("source_id", "region_code", "interval_start_utc"),
    ("region_code", "date_local"),
)

GOLD_WEATHER_DAILY_DEGREE_DAYS = TableContract(
    "gold_weather__daily_degree_days",
    "Daily temperature and heating / cooling degree days (base 65 F) per region, local calendar day.",
    _cols(
        "region_code",
        "station_id",
        "date_local",
        ("mean_temperature_c", "double", True),
        ("min_temperature_c", "double", True),
        ("max_temperature_c", "double", True),
        ("heating_degree_days_f", "double", True),
        ("cooling_degree_days_f", "double", True),
        "hours_reported",
        BATCH,
    ),
    ("region_code", "date_local"),
    ("region_code", "date_local"),
)

GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK = TableContract(
    "gold_demand__monthly_coincident_peak",
    "Each region's demand at the system's monthly peak hour (coincident) beside its own peak (non-coincident).",
    _cols(
        "source_id",
        _field("month_start_date", "first local calendar day of the month"),
        "region_code",
        ("system_peak_interval_start_utc", "timestamp", False),
        ("system_peak_demand_mw", "double", False, "sum of the source's non-aggregate regions at that hour"),
        ("demand_at_system_peak_mw", "double", True, "coincident peak"),
        ("region_peak_demand_mw", "double", True, "non-coincident peak"),
        ("region_peak_interval_start_utc", "timestamp", True),
        ("coincidence_factor", "double", True, "demand_at_system_peak_mw / region_peak_demand_mw"),
        BATCH,
    ),
    ("source_id", "month_start_date", "region_code"),
    ("region_code", "month_start_date"),
)

GOLD_QUALITY_FILE_ACCOUNTING = TableContract(
    "gold_quality__file_accounting",
    "Row accounting per ingested file: rows_in = rows_kept + rows_quarantined + rows_exact_duplicate.",
    _cols(
        "source_id",
        "source_file",
        "rows_in",
        "rows_kept",
        "rows_quarantined",
        "rows_exact_duplicate",
        _field("ingested_at_utc", nullable=True),
        BATCH,
    ),
    ("source_id", "source_file"),
)

GOLD_QUALITY_QUARANTINE_SUMMARY = TableContract(
    "gold_quality__quarantine_summary",
    "Quarantined rows per source, file and reason.",
    _cols(
        "source_id",
        "source_file",
        "reason",
        ("row_count", "bigint", False),
        BATCH,
    ),
    ("source_id", "source_file", "reason"),
)

GOLD_RELIABILITY_DAILY = TableContract(
    "gold_reliability__daily",
    "Reliability per region and local calendar day (events counted on the day they start), with Major Event Days.",
    _cols(
        "region_code",
        "date_local",
        "customers_served",
        ("sustained_interruptions", "bigint", False, "events longer than the momentary threshold"),
        ("momentary_interruptions", "bigint", False),
        ("customer_interruptions", "bigint", False, "sum of customers affected by sustained events"),
        ("customer_minutes_interrupted", "double", False),
        ("momentary_customer_interruptions", "bigint", False),
        ("saidi_minutes", "double", True, "null when customers served is unknown"),
        ("saifi", "double", True),
        (
            "med_threshold_saidi_minutes",
            "double",
            True,
            "IEEE 1366 2.5-beta threshold in force (null: no history)",
        ),
        "is_major_event_day",
        _field("is_med_threshold_provisional", "threshold fitted on less than five years"),
        ("med_history_days", "int", False, "days of history the threshold was fitted on"),
        "events_excluded_unknown_customers",
        "events_excluded_unknown_restoration",
        BATCH,
    ),
    ("region_code", "date_local"),
    ("region_code", "date_local"),
)


def _reliability_period(name: str, period_cols: tuple[tuple, ...], key: tuple[str, ...]) -> TableContract:
    indices = []
    for med in ("w", "wo"):
        suffix = f"{med}_major_event_days"
        indices += [
            (f"saidi_{suffix}_minutes", "double", True),
            (f"saifi_{suffix}", "double", True),
            (f"caidi_{suffix}_minutes", "double", True, "SAIDI / SAIFI; null where SAIFI = 0"),
            (f"maifi_{suffix}", "double", True),
            (f"asai_{suffix}_pct", "double", True),
            (f"cemi_{suffix}_pct", "double", True, "customers with more than n sustained interruptions"),
        ]
    return TableContract(
        name,
        f"Reliability indices per region and {name.rsplit('__', 1)[1]}, with and without Major Event Days.",
        _cols(
            "region_code",
            *period_cols,
            _field("customers_served", "null when no sourced count exists (indices null too)"),
            ("period_hours", "int", False),
            *indices,
            ("cemi_n", "int", False, "the n of CEMI-n"),
            ("major_event_days", "int", False),
            "is_med_threshold_provisional",
            "events_excluded_unknown_customers",
            "events_excluded_unknown_restoration",
            BATCH,
        ),
        key,
        key,
    )


GOLD_RELIABILITY_MONTHLY = _reliability_period(
    "gold_reliability__monthly", ("month_start_date",), ("region_code", "month_start_date")
)
GOLD_RELIABILITY_YEARLY = _reliability_period(
    "gold_reliability__yearly", (("year", "int", False),), ("region_code", "year")
)

GOLD_OUTAGES_EVENTS = TableContract(
    "gold_outages__events",
    "Outage events with their region's local times, for drill-down.",
    _cols(
        "source_id",
        "event_id",
        "region_code",
        "feeder_id",
        "started_at_utc",
        _field("restored_at_utc", "null while the event is still open"),
        ("started_at_local", "timestamp_ntz", False),
        ("restored_at_local", "timestamp_ntz", True),
        _field("date_local", "local calendar day the event started"),
        "duration_minutes",
        _field("customers_affected", "null when unknown"),
        "is_customers_unknown",
        "is_momentary",
        "is_open",
        "is_major_event_day",
        "cause",
        "device",
        BATCH,
    ),
    ("source_id", "event_id"),
    ("region_code", "date_local"),
)

GOLD_REFERENCE_REGIONS = TableContract(
    "gold_reference__regions",
    "Regions as reference data (names, time zones, hierarchy, weather station), exported for the reports.",
    _cols(
        "region_code",
        ("region_name", "string", False),
        ("parent_region_code", "string", True),
        ("is_aggregate", "boolean", False, "true for a system total that other regions add up to"),
        "time_zone",
        ("weather_station_id", "string", True),
        BATCH,
    ),
    ("region_code",),
)

GOLD_TABLES: tuple[TableContract, ...] = (
    GOLD_REFERENCE_REGIONS,
    GOLD_DEMAND_DAILY,
    GOLD_DEMAND_HOURLY_PROFILE,
    GOLD_DEMAND_HOURLY_WEATHER,
    GOLD_WEATHER_DAILY_DEGREE_DAYS,
    GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK,
    GOLD_QUALITY_FILE_ACCOUNTING,
    GOLD_QUALITY_QUARANTINE_SUMMARY,
    GOLD_RELIABILITY_DAILY,
    GOLD_RELIABILITY_MONTHLY,
    GOLD_RELIABILITY_YEARLY,
    GOLD_OUTAGES_EVENTS,
)


# bronze__ingested_files.status
FILE_INGESTED, FILE_FAILED = "ingested", "failed"

# Bookkeeping: what makes each layer incremental and idempotent. Not exported; read and written by the pipeline only.
BRONZE_INGESTED_FILES = TableContract(
    "bronze__ingested_files",
    "One row per raw file version ingested into Bronze (path + content hash), and per file that failed.",
    _cols(
        "source_id",
        _field("source_file", "path relative to the raw root"),
        _field("content_hash", "sha256 of the file's bytes; '' when the file could not be read at all"),
        ("size_bytes", "bigint", True),
        ("modified_ms", "bigint", True, "the file's modification time as listed (epoch ms)"),
        ("status", "string", False, "ingested | failed"),
        ("rows", "bigint", False, "data rows ingested"),
        ("error", "string", True, "why the file failed, naming the file and the problem"),
        ("header_json", "string", True, "the file's header fields as a JSON array"),
        BATCH,
        "ingested_at_utc",
    ),
    ("source_file", "content_hash", "status", "batch_id"),
    ("source_id", "source_file"),
)

SILVER_PROCESSED_FILES = TableContract(
    "silver__processed_files",
    "Row accounting of each Bronze file version Silver processed: rows_in = kept + quarantined + exact duplicates.",
    _cols(
        "source_id",
        "source_file",
        "content_hash",
        "rows_in",
        "rows_kept",
        "rows_quarantined",
        "rows_exact_duplicate",
        BATCH,
        ("processed_at_utc", "timestamp", False),
    ),
    ("source_id", "source_file", "content_hash"),
    ("source_id", "source_file"),
)

GOLD_PROCESSED_SILVER_BATCHES = TableContract(
    "gold__processed_silver_batches",
    "Which Silver batches each Silver table had when Gold last finished: rows of any other batch are new to Gold.",
    _cols("table_name", ("batch_id", "string", False)),
    ("table_name", "batch_id"),
)


GOLD_BUILD_INPUTS = TableContract(
    "gold__build_inputs",
    "What each Gold table was last built from: a fingerprint of its inputs' Delta versions and reference data. A "
    "builder whose inputs have the same fingerprint would rebuild the same rows: it is skipped.",
    _cols(
        "table_name",
        ("inputs_fingerprint", "string", False, "sha256 of the inputs' table ids and versions and the reference data"),
        ("inputs_json", "string", False, "the inputs as fingerprinted, for people"),
        BATCH,
        ("built_at_utc", "timestamp", False),
    ),
    ("table_name",),
)


def bronze_raw_rows(source_id: str) -> TableContract:
    """`bronze_{source_id}__raw_rows`: every raw row of one source as it came, with lineage."""
    return TableContract(
        f"bronze_{source_id}__raw_rows",
        f"Raw rows of source {source_id} as they came (csv: one per physical line; xls: one per sheet row).",
        _cols(
            "source_id",
            _field("source_file", "path relative to the raw root"),
            _field("content_hash", "sha256 of the file version the row came from"),
            _field("source_row_number", "csv: physical 1-based line, header = 1; xls: sheet row"),
            ("raw_line", "string", True, "csv: the line as it came; xls: the row's cells as a JSON array"),
            ("field_count", "int", False, "fields in the line (quote-aware); its header is in bronze__ingested_files"),
            BATCH,
            "ingested_at_utc",
        ),
        ("source_file", "content_hash", "source_row_number"),
        ("source_file", "content_hash"),
    )


SILVER_TABLES: tuple[TableContract, ...] = (
    SILVER_DEMAND_HOURLY,
    SILVER_WEATHER_HOURLY,
    SILVER_OUTAGE_EVENTS,
    SILVER_QUARANTINE,
)
BOOKKEEPING_TABLES: tuple[TableContract, ...] = (
    BRONZE_INGESTED_FILES,
    SILVER_PROCESSED_FILES,
    GOLD_PROCESSED_SILVER_BATCHES,
    GOLD_BUILD_INPUTS,
)
# Tables whose Delta Change Data Feed is on: the export sends only the rows that changed since the last batch.
CHANGE_DATA_FEED_TABLES = frozenset(t.name for t in GOLD_TABLES)


# Scratch tables (lake.stage): each plan materialised once per run, replaced every time, in no contract. Named here,
# so maintenance can tell an earlier release's scratch tables, which nothing reads again, from this release's.
STAGING_PREFIX = "staging_"
# What any release's scratch tables look like: a table of another name in the schema, even staging_*, is not ours.
SCRATCH_TABLE = re.compile(rf"{STAGING_PREFIX}(silver|gold|export)__[a-z0-9_]+")
SILVER_STAGING_PARTS = ("candidates", "duplicate_keys")


def silver_staging(table: str, part: str) -> str:
    """Silver's scratch table for `part` (SILVER_STAGING_PARTS) of the one pass that writes `table`."""
    return f"{STAGING_PREFIX}silver__{table}__{part}"


def gold_staging(table: str) -> str:
    """The rows an incremental Gold build MERGEs into `table`."""
    return f"{STAGING_PREFIX}gold__{table}"


# Results several Gold builders derive from (GoldContext.computed_once): staged under these names when they hold too
# many rows for the driver.
GOLD_SHARED_RESULTS = (
    "changed_days_demand_local",
    "changed_days_weather_local",
    "reliability_daily",
    "reliability_events",
)


def gold_shared_staging(result: str) -> str:
    """A result several Gold builders derive from (GOLD_SHARED_RESULTS), when too many rows for the driver."""
    return f"{STAGING_PREFIX}gold__shared__{result}"


def export_staging(table: str) -> str:
    """`table`'s change feed netted per key, for one export batch."""
    return f"{STAGING_PREFIX}export__{table}"


def staging_tables() -> frozenset[str]:
    """Every scratch table this release writes."""
    silver = {silver_staging(t.name, part) for t in SILVER_TABLES for part in SILVER_STAGING_PARTS}
    gold = {gold_shared_staging(result) for result in GOLD_SHARED_RESULTS}
    return frozenset(silver | gold | {f(t.name) for t in GOLD_TABLES for f in (gold_staging, export_staging)})


def contract(name: str) -> TableContract:
    for table in (*SILVER_TABLES, *GOLD_TABLES, *BOOKKEEPING_TABLES):
        if table.name == name:
            return table
    raise KeyError(f"no table contract named {name!r}")


# LOAD_HISTORY is the warehouse's own table (sql/06_load_history.sql creates it; the load procedure writes it):
# declared here so the warehouse upgrade treats it like the curated tables.
WAREHOUSE_LOAD_HISTORY = TableContract(
    "load_history",
    "Audit of every load of the Gold export",
    _cols(
        ("load_id", "string", False, "one id per CALL of the load procedure (a chain of batches shares it)"),
        "batch_id",
        _field(
            "table_name", "null when the load failed before reaching a table (e.g. unreadable manifest)", nullable=True
        ),
        ("status", "string", False, "LOADED | SKIPPED | FAILED"),
        ("files_loaded", "int", False, "row files and deleted-key files"),
        ("rows_in_manifest", "bigint", False),
        ("rows_loaded", "bigint", False),
        ("rows_rejected", "bigint", False),
        ("rows_replaced", "bigint", False, "existing rows with the same primary key, replaced by the load"),
        ("loaded_at_utc", "timestamp", False),
        ("error_message", "string", True),
        (
            "mode",
            "string",
            True,
            "full | incremental (export manifest version 2); null before it or when the manifest was unread",
        ),
        (
            "rows_deleted",
            "bigint",
            True,
            "existing rows deleted: absent from a full batch, or deleted keys of an incremental one",
        ),
        ("contract_version", "int", True, "the export contract version of the batch; null before contract versions"),
    ),
    (),
)
WAREHOUSE_TABLES: tuple[TableContract, ...] = (WAREHOUSE_LOAD_HISTORY,)


def versioned_contracts() -> tuple[TableContract, ...]:
    """Every contract the version covers: lake (Bronze's per-source template too) and warehouse."""
    return (*SILVER_TABLES, *GOLD_TABLES, *BOOKKEEPING_TABLES, bronze_raw_rows("{source_id}"), *WAREHOUSE_TABLES)


def contracts_fingerprint() -> str:
    """One fingerprint of every contract: what CONTRACT_FINGERPRINTS pins for CONTRACT_VERSION."""
    joined = ",".join(f"{c.name}={c.fingerprint}" for c in versioned_contracts())
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


# The contract version, stored on every table it made or upgraded (and carried by each export manifest). Any change
# to a contract above changes contracts_fingerprint(): then raise CONTRACT_VERSION and pin the new fingerprint here
# (tests/lakehouse/test_contract_version.py fails until both are done). Versions only grow; none is ever reused.
CONTRACT_VERSION = 1
CONTRACT_FINGERPRINTS: dict[int, str] = {1: "311bef15d651e0db"}


class QuarantineReason(StrEnum):
    """The values of silver__quarantine.reason: why Silver could not use a raw row. Declared once here; the
    transforms use the members and the documentation's table is rendered from QUARANTINE_REASONS."""

    EXCLUDED_BY_FILTER = "excluded_by_filter"
    MALFORMED_ROW = "malformed_row"
    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    UNKNOWN_REGION = "unknown_region"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    MISSING_VALUE = "missing_value"
    FLAGGED_VALUE = "flagged_value"
    NON_NUMERIC_VALUE = "non_numeric_value"
    NEGATIVE_DEMAND = "negative_demand"
    ABSURD_VALUE = "absurd_value"
    RESTORATION_BEFORE_START = "restoration_before_start"
    NEGATIVE_CUSTOMERS = "negative_customers"
    ABSURD_CUSTOMERS = "absurd_customers"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"


# reason -> (datasets it applies to, what it means), in the order the checks apply (the first failure wins).
QUARANTINE_REASONS: dict[QuarantineReason, tuple[str, str]] = {
    QuarantineReason.EXCLUDED_BY_FILTER: (
        "demand, weather",
        "the definition's `filter` leaves the row out (e.g. NOAA LCD summary rows): counted, never lost",
    ),
    QuarantineReason.MALFORMED_ROW: (
        "demand, weather",
        "the line's field count differs from the header's (truncated or extra fields), or it has an unbalanced quote",
    ),
    QuarantineReason.UNPARSEABLE_TIMESTAMP: (
        "all",
        "no pattern reads the timestamp, a DST-gap wall time, a repeat marker on a non-repeated hour, not on the "
        "hour; for outages also a restoration or duration with digits that no pattern reads",
    ),
    QuarantineReason.UNKNOWN_REGION: ("all", "no region (or weather station) in the reference data has this name"),
    QuarantineReason.TIMESTAMP_OUT_OF_RANGE: ("all", "outside the source's `valid_from` .. `valid_until` window"),
    QuarantineReason.MISSING_VALUE: ("demand, weather", "a null token or nothing in the value field"),
    QuarantineReason.FLAGGED_VALUE: ("demand, weather", "the value carries a flag the definition declares `reject`"),
    QuarantineReason.NON_NUMERIC_VALUE: ("demand, weather", "the value (or reported demand) is not a number"),
    QuarantineReason.NEGATIVE_DEMAND: ("demand", "demand below zero"),
    QuarantineReason.ABSURD_VALUE: ("demand, weather", "not finite, or outside the field's `valid_range`"),
    QuarantineReason.RESTORATION_BEFORE_START: ("outage_events", "restored before it started"),
    QuarantineReason.NEGATIVE_CUSTOMERS: ("outage_events", "customers affected below zero"),
    QuarantineReason.ABSURD_CUSTOMERS: (
        "outage_events",
        "customers affected not a number, not a whole number, or above `options.max_customers_affected`",
    ),
    QuarantineReason.CONFLICTING_DUPLICATE: (
        "all",
        "same key as a row seen first (earlier file, line, column; or already in Silver) with different values",
    ),
}


DOCS_LINE_LIMIT = 120  # characters per line of README.md and docs/*.md


def quarantine_reasons_markdown() -> str:
    """The documentation's list of quarantine reasons, rendered from QUARANTINE_REASONS: one item per reason, wrapped
    at the docs' line limit (a Markdown table row cannot wrap, and the meanings are longer than the limit allows)."""
    items = [
        textwrap.fill(
            f"- `{reason}` ({datasets}): {meaning}",
            DOCS_LINE_LIMIT,
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        for reason, (datasets, meaning) in QUARANTINE_REASONS.items()
    ]
    return "\n".join(items) + "\n"
