"""Silver transform for `dataset: outage_events` (OE-417, utility OMS exports, the synthetic utility).

Bronze rows (raw_line, split by the file's header) -> candidate rows of silver_outages__events plus a quarantine reason.
Reasons: unparseable_timestamp (start missing or unreadable, or a restoration / duration with digits that no pattern
reads), restoration_before_start, negative_customers, absurd_customers (above `options.max_customers_affected`),
unknown_region. Unknown customer counts (null tokens) are kept and flagged.

Restoration, in the order it is decided:
  - a readable restoration stamp, or start + a readable duration: the event is closed;
  - nothing at all in the restoration and duration cells: open (an OMS export of events still out), or restoration
    unknown when `options.missing_restoration: unknown` (an annual summary has no events still out);
  - text without digits ('Unknown', 'Unkown', 'TBD') or a date without a time: restoration unknown.
An event with an unknown restoration is kept with null restoration and duration and `is_restoration_unknown`: Gold
counts it as a sustained interruption but with no minutes (reliability.py), an open event in no index.

Definition knobs (under `options:`):
  momentary_threshold_minutes  interruptions this long or shorter are momentary (IEEE 1366: 5)
  restoration                  {column: [date col, time col] | col, format: pattern or [patterns]}: restoration stamp
  missing_restoration          open (default) | unknown: what empty restoration and duration cells mean
  region_separator             separator or [separators] of multi-valued regions ('SERC/RF', 'MRO, RF'): the first
                               listed is the event's region; spaces around a separator do not matter
  time_zone_from_region        true: stamps are the region's local time (regions.csv), not timestamp.time_zone
  max_customers_affected       above this a count is absurd (default 10,000,000: more than any US utility serves)
Fields: event_id (else a hash of the row's raw values, so the same row in overlapping exports merges), feeder_id,
customers_affected, duration_minutes (unit minutes | hours | seconds), cause, device, area_affected.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from databricks_jobs.reference.regions import Region
from databricks_jobs.silver.parsing import (
    RawFields,
    convert_unit,
    date_pattern,
    key_text,
    null_tokens_to_null,
    out_of_range,
    parse_double,
    parse_timestamp,
    region_lookup,
)
from databricks_jobs.sources.model import SourceDefinition, TimestampSpec
from databricks_jobs.tables import QuarantineReason as Reason

MOMENTARY_THRESHOLD_MINUTES = 5.0
MAX_CUSTOMERS_AFFECTED = 10_000_000
EXCEL_EPOCH = "1899-12-30"  # Excel serial day 0 (1900 date system, after its leap-year bug)


def _aliases(spec: object) -> tuple[str, ...]:
    return (spec,) if isinstance(spec, str) else tuple(spec)


def _field(definition: SourceDefinition, fields: RawFields, name: str) -> Column:
    """A canonical field's raw text (null tokens as null), or null when the definition does not declare it."""
    spec = definition.field(name)
    if spec is None:
        return F.lit(None).cast("string")
    return null_tokens_to_null(fields.value(spec.columns), definition.null_tokens)


def _first_region(raw_region: Column, separators: object) -> Column:
    """The first of a multi-valued region ('SERC/RF', 'MRO, RF', 'TRE / SERC'); the text as is without separators."""
    if not separators:
        return raw_region
    alternatives = "|".join(re.escape(s) for s in _aliases(separators))
    return F.trim(F.split(raw_region, rf"\s*(?:{alternatives})\s*", 2).getItem(0))


def _date_text(part: Column, pattern: str, excel_serial: bool) -> Column:
    """A date cell as the text the pattern expects: Excel serial day numbers (44641) and real spreadsheet dates
    (read as 2022-03-21 or 2022-03-21 00:00:00) are converted, other text is left as it is."""
    iso = F.regexp_extract(part, r"^(\d{4}-\d{2}-\d{2})( 00:00:00)?$", 1)
    converted = F.when(iso != "", F.date_format(F.to_date(iso), pattern))
    if excel_serial:
        serial = F.regexp_extract(part, r"^(\d{4,6})(\.0+)?$", 1)
        as_date = F.date_format(F.date_add(F.lit(EXCEL_EPOCH).cast("date"), serial.cast("int")), pattern)
        converted = converted.when(serial != "", as_date)
    return converted.otherwise(part)


def _joined(parts: list[Column]) -> Column:
    """The parts joined with a space, null when every part is null."""
    return F.when(reduce(lambda a, b: a | b, [p.isNotNull() for p in parts]), F.concat_ws(" ", *parts))


def _stamp(
    spec: TimestampSpec, definition: SourceDefinition, fields: RawFields, region_zone: Column | None
) -> tuple[Column, Column, Column]:
    """(text as read or null when every part is empty / a null token, UTC instant or null, the date alone when the
    parts holding digits are a date without a time) of a stamp spread over one or more columns.
    `region_zone`: the stamps are wall-clock time in that (per-row) zone instead of spec's."""
    parts = [null_tokens_to_null(fields.value(aliases), definition.null_tokens) for aliases in spec.columns]
    if len(parts) > 1:  # a separate date column: its text may be an Excel serial or a real spreadsheet date
        parts[0] = _date_text(parts[0], date_pattern(spec.format), spec.excel_serial_dates)
    text = _joined(parts)
    if region_zone is None:
        instant, _ = parse_timestamp(text, replace(spec, convention="instant"))
    else:
        wall, _ = parse_timestamp(text, replace(spec, convention="instant", time_zone="UTC"))
        instant = F.to_utc_timestamp(wall, region_zone)
    with_digits = _joined([F.when(p.rlike(r"\d"), p) for p in parts])
    date_only = F.try_to_timestamp(with_digits, F.lit(date_pattern(spec.format)))
    return text, instant, date_only


def _raw_text(columns: tuple[tuple[str, ...], ...], fields: RawFields) -> Column:
    """The cells as written (null tokens included), joined; null when every cell is empty or absent."""
    return _joined([F.when(F.trim(fields.value(a)) != "", F.trim(fields.value(a))) for a in columns])


def _restoration_spec(definition: SourceDefinition) -> TimestampSpec | None:
    restoration = definition.options.get("restoration")
    if not restoration:
        return None
    column = restoration["column"]
    columns = ((column,),) if isinstance(column, str) else tuple(_aliases(c) for c in column)
    formats = _aliases(restoration["format"])
    return replace(definition.timestamp, columns=columns, format=formats[0], alternative_formats=formats[1:])


def _plus_minutes(instant: Column, minutes: Column) -> Column:
    return F.timestamp_micros(F.unix_micros(instant) + (minutes * 60e6).cast("bigint"))


def transform_outages(
    bronze: DataFrame, definition: SourceDefinition, fields: RawFields, regions: tuple[Region, ...]
) -> DataFrame:
    """Bronze rows of an outage_events source -> candidate silver_outages__events rows with a reason (null = ok)."""
    options = definition.options
    threshold = float(options.get("momentary_threshold_minutes", MOMENTARY_THRESHOLD_MINUTES))
    max_customers = int(options.get("max_customers_affected", MAX_CUSTOMERS_AFFECTED))
    raw_region = key_text(definition.region, fields, definition)
    region_code = region_lookup(_first_region(raw_region, options.get("region_separator")), regions)
    region_zone = None
    if options.get("time_zone_from_region"):
        zones = F.create_map(*[F.lit(x) for r in regions for x in (r.region_code, r.time_zone)])
        region_zone = F.coalesce(F.element_at(zones, region_code), F.lit("UTC"))
    start_text, started, _ = _stamp(definition.timestamp, definition, fields, region_zone)
    restoration_spec = _restoration_spec(definition)
    raw_columns: tuple[tuple[str, ...], ...] = ()
    if restoration_spec is not None:
        restored_text, restored, restored_date_only = _stamp(restoration_spec, definition, fields, region_zone)
        raw_columns = restoration_spec.columns
    else:
        restored_text, restored = F.lit(None).cast("string"), F.lit(None).cast("timestamp")
        restored_date_only = F.lit(None).cast("timestamp")
    duration_raw = _field(definition, fields, "duration_minutes")
    duration_spec = definition.field("duration_minutes")
    duration_value = parse_double(duration_raw)
    if duration_spec is not None:
        duration_value = convert_unit(duration_value, duration_spec)
        raw_columns = (*raw_columns, duration_spec.columns)
    restoration_raw = _raw_text(raw_columns, fields) if raw_columns else F.lit(None).cast("string")
    customers_raw = _field(definition, fields, "customers_affected")
    customers = parse_double(F.regexp_replace(customers_raw, ",", ""))

    rows = fields.split(bronze, definition).select(
        "*",
        region_code.alias("region_code"),
        raw_region.alias("region_reported"),
        start_text.alias("_start_text"),
        started.alias("started_at_utc"),
        restored_text.alias("_restored_text"),
        restored_date_only.alias("_restored_date_only"),
        restoration_raw.alias("_restoration_raw"),
        F.coalesce(restored, _plus_minutes(started, duration_value)).alias("restored_at_utc"),
        duration_raw.alias("_duration_text"),
        customers_raw.alias("_customers_text"),
        customers.alias("_customers"),
        _field(definition, fields, "event_id").alias("_event_id"),
        _field(definition, fields, "feeder_id").alias("feeder_id"),
        _field(definition, fields, "cause").alias("cause"),
        _field(definition, fields, "device").alias("device"),
        _field(definition, fields, "area_affected").alias("area_affected"),
    )
    duration = (F.unix_micros("restored_at_utc") - F.unix_micros("started_at_utc")) / 60e6
    # Without a source event id, the row's raw values (sorted, so renamed or reordered columns give the same id)
    # identify it: the same event in two overlapping exports gets one id and merges once.
    identity = F.to_json(F.array_sort(fields.values()))
    missing_means = options.get("missing_restoration", "open")
    if missing_means not in ("open", "unknown"):
        raise ValueError(f"{definition.definition_path}: options.missing_restoration must be open or unknown")
    unknown_restoration = _is_restoration_unknown(missing_means == "unknown")
    rows = rows.select("*", unknown_restoration.alias("is_restoration_unknown"))
    reason, detail = _quarantine(
        max_customers, out_of_range(F.col("started_at_utc"), definition.timestamp, "event start")
    )
    return rows.select(
        F.lit(definition.source_id).alias("source_id"),
        F.coalesce(F.trim("_event_id"), F.concat(F.lit("h-"), F.substring(F.sha2(identity, 256), 1, 20))).alias(
            "event_id"
        ),
        "region_code",
        "feeder_id",
        "started_at_utc",
        "restored_at_utc",
        duration.alias("duration_minutes"),
        F.when(F.col("_customers") >= 0, F.col("_customers").cast("bigint")).alias("customers_affected"),
        F.col("_customers_text").isNull().alias("is_customers_unknown"),
        F.coalesce(duration <= threshold, F.lit(False)).alias("is_momentary"),
        (F.col("restored_at_utc").isNull() & ~F.col("is_restoration_unknown")).alias("is_open"),
        "is_restoration_unknown",
        "cause",
        "device",
        "region_reported",
        "area_affected",
        "source_file",
        "source_row_number",
        reason.alias("reason"),
        detail.alias("detail"),
        F.lit("").alias("source_column"),  # long rows: no value column (silver__quarantine contract)
        F.to_json(fields.record()).alias("raw_record"),
    )


def _is_restoration_unknown(missing_is_unknown: bool) -> Column:
    """No restoration could be read, yet the source says something about it: words without digits ('Unknown',
    'Unkown'), a date without a time, or (when declared) nothing at all in a file that has no events still out."""
    unreadable = F.col("restored_at_utc").isNull()
    said_something = F.col("_restoration_raw").isNotNull()
    words_only = said_something & ~F.col("_restoration_raw").rlike(r"\d")
    date_only = F.col("_restored_date_only").isNotNull()
    nothing = ~said_something if missing_is_unknown else F.lit(False)
    return unreadable & F.col("started_at_utc").isNotNull() & (words_only | date_only | nothing)


def _quarantine(max_customers: int, start_out_of_range: tuple[Column, Column]) -> tuple[Column, Column]:
    """(reason, detail) of the first problem of a row, null when it is usable."""
    checks = [
        (F.col("started_at_utc").isNull(), Reason.UNPARSEABLE_TIMESTAMP,
         F.concat(F.lit("event start "), F.coalesce(F.col("_start_text"), F.lit("<missing>")), F.lit(" unreadable"))),
        (start_out_of_range[0], Reason.TIMESTAMP_OUT_OF_RANGE, start_out_of_range[1]),
        (F.col("_restored_text").isNotNull() & F.col("restored_at_utc").isNull() & ~F.col("is_restoration_unknown"),
         Reason.UNPARSEABLE_TIMESTAMP, F.concat(F.lit("restoration "), F.col("_restored_text"), F.lit(" unreadable"))),
        (F.col("_duration_text").isNotNull() & F.col("restored_at_utc").isNull() & ~F.col("is_restoration_unknown"),
         Reason.UNPARSEABLE_TIMESTAMP,
         F.concat(F.lit("duration "), F.col("_duration_text"), F.lit(" unreadable"))),
        (F.col("region_code").isNull(), Reason.UNKNOWN_REGION,
         F.concat(F.lit("region "), F.coalesce(F.col("region_reported"), F.lit("<missing>")), F.lit(" unknown"))),
        (F.col("restored_at_utc") < F.col("started_at_utc"), Reason.RESTORATION_BEFORE_START,
         F.concat(F.lit("restored "), F.col("restored_at_utc").cast("string"), F.lit(" UTC before start "),
                  F.col("started_at_utc").cast("string"))),
        (F.col("_customers_text").isNotNull() & F.col("_customers").isNull(), Reason.ABSURD_CUSTOMERS,
         F.concat(F.lit("customers affected "), F.col("_customers_text"), F.lit(" is not a number"))),
        (F.col("_customers") < 0, Reason.NEGATIVE_CUSTOMERS,
         F.concat(F.lit("customers affected "), F.col("_customers_text"), F.lit(" < 0"))),
        ((F.col("_customers") > max_customers) | (F.col("_customers") != F.floor("_customers")),
         Reason.ABSURD_CUSTOMERS,
         F.concat(F.lit("customers affected "), F.col("_customers_text"),
                  F.lit(f" is not a whole number <= {max_customers:,}"))),
    ]  # fmt: skip
    reason = reduce(lambda acc, c: acc.when(c[0], c[1]), checks[1:], F.when(checks[0][0], checks[0][1]))
    detail = reduce(lambda acc, c: acc.when(c[0], c[2]), checks[1:], F.when(checks[0][0], checks[0][2]))
    return reason, detail
