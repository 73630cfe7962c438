"""The demand and weather Silver transforms: Bronze rows -> typed candidate rows with a quarantine reason (or null).

A 'row' in Silver is one value: a long file gives one per line, a wide file one per line and region column (an
ERCOT line holds nine: eight weather zones and the system total). Every candidate keeps its file, line and column,
so each one is either kept, quarantined with a reason, or counted as an exact duplicate.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from databricks_jobs.reference.regions import Region
from databricks_jobs.silver.parsing import (
    RawFields,
    convert_unit,
    hours_interval,
    key_text,
    null_tokens_to_null,
    out_of_range,
    parse_double,
    parse_timestamp,
    region_lookup,
    station_region_lookup,
    timestamp_text,
)
from databricks_jobs.sources.aliases import normalise_header
from databricks_jobs.sources.model import FieldSpec, SourceDefinition
from databricks_jobs.tables import QuarantineReason


def first_failure(checks: list[tuple[Column, str, Column]]) -> tuple[Column, Column]:
    """(reason, detail) of the first failing check, in order; null when every check passes."""
    reason, detail = None, None
    for condition, code, text in reversed(checks):
        reason = F.when(condition, F.lit(code)) if reason is None else F.when(condition, F.lit(code)).otherwise(reason)
        detail = F.when(condition, text) if detail is None else F.when(condition, text).otherwise(detail)
    return reason, detail


def _cells(bronze: DataFrame, definition: SourceDefinition, fields: RawFields) -> DataFrame:
    """One row per Silver value: `source_column` and `_value_text` (Bronze rows split by their file's header)."""
    bronze = fields.split(bronze, definition)
    if definition.shape == "long":
        value = fields.value(_value_field(definition).columns)
        return bronze.select("*", F.lit("").alias("source_column"), value.alias("_value_text"))
    excluded = {normalise_header(a) for aliases in definition.timestamp.columns for a in aliases}
    excluded |= {normalise_header(c) for c in definition.wide_ignore_columns}
    wanted = {normalise_header(c) for c in definition.wide_value_columns}
    names = {h: normalise_header(h) for h in fields.headers}
    value_headers = [h for h, n in names.items() if n not in excluded and (not wanted or n in wanted)]
    cells = F.explode(fields.cells(value_headers)).alias("_cell")
    return bronze.select("*", cells).select(
        "*", F.col("_cell.key").alias("source_column"), F.col("_cell.value").alias("_value_text")
    )


def _value_field(definition: SourceDefinition) -> FieldSpec:
    name = {"demand": "demand_mw", "weather": "temperature_c"}[definition.dataset]
    spec = definition.field(name)
    if spec is None:
        raise ValueError(f"{definition.definition_path}: a {definition.dataset} source needs the field {name!r}")
    return spec


# A demand definition without `valid_range` still refuses negative and absurd values: no utility's hourly demand is
# near a million MW (the largest grids peak in the hundreds of thousands), and a bound keeps every daily sum finite.
DEFAULT_DEMAND_RANGE_MW: tuple[float | None, float | None] = (None, 1_000_000.0)


def _range_checks(value: Column, spec: FieldSpec, label: Column, is_demand: bool) -> list[tuple[Column, str, Column]]:
    shown = F.concat(label, F.lit(" = "), value.cast("string"), F.lit(f" {spec.canonical_unit or ''}".rstrip()))
    # NaN and +/-infinity parse as doubles ("NaN", "1e999"); no range makes them a reading.
    checks = [
        (
            F.isnan(value) | (F.abs(value) == float("inf")),
            QuarantineReason.ABSURD_VALUE,
            F.concat(shown, F.lit(" is not finite")),
        )
    ]
    if spec.valid_range is None and not is_demand:
        return checks
    low, high = spec.valid_range if spec.valid_range is not None else DEFAULT_DEMAND_RANGE_MW
    if is_demand and (low is None or low >= 0):
        checks.append((value < 0, QuarantineReason.NEGATIVE_DEMAND, F.concat(shown, F.lit(" is negative"))))
    if low is not None:
        checks.append((value < low, QuarantineReason.ABSURD_VALUE, F.concat(shown, F.lit(f" is below {low}"))))
    if high is not None:
        checks.append((value > high, QuarantineReason.ABSURD_VALUE, F.concat(shown, F.lit(f" is above {high}"))))
    return checks


def _numeric(text: Column, spec: FieldSpec, definition: SourceDefinition) -> tuple[Column, Column]:
    cleaned = null_tokens_to_null(text, definition.null_tokens)
    return cleaned, convert_unit(parse_double(_without_kept_flag(cleaned, spec)), spec)


def _flag(text: Column) -> Column:
    """The non-digit suffix after a number ('45s' -> 's'), '' when there is none."""
    return F.regexp_extract(text, r"^\s*[-+]?[0-9.]+\s*([^0-9.\s]+)\s*$", 1)


def _without_kept_flag(text: Column, spec: FieldSpec) -> Column:
    """The number of a value whose flag the definition keeps ('45s' -> '45' when `flags: {s: keep}`)."""
    kept = [flag for flag, action in spec.flags.items() if action == "keep"]
    if not kept:
        return text
    return F.when(_flag(text).isin(*kept), F.regexp_replace(text, r"[^0-9.+-]+\s*$", "")).otherwise(text)


def _flag_checks(text: Column, spec: FieldSpec, label: Column) -> list[tuple[Column, str, Column]]:
    rejected = [flag for flag, action in spec.flags.items() if action == "reject"]
    if not rejected:
        return []
    detail = F.concat(label, F.lit(" = '"), text, F.lit(f"' carries a flag the source rejects ({rejected})"))
    return [(_flag(text).isin(*rejected), QuarantineReason.FLAGGED_VALUE, detail)]


def _common(
    bronze: DataFrame, definition: SourceDefinition, fields: RawFields
) -> tuple[DataFrame, list[tuple[Column, str, Column]]]:
    """Typed timestamp and value, plus the checks every hourly source shares (in the order they apply)."""
    spec = _value_field(definition)
    rows = _cells(bronze, definition, fields)
    stamp = timestamp_text(fields, definition.timestamp)
    repeat = None
    if definition.timestamp.dst_repeat == "file_order":
        rows = rows.withColumn("_repeat", _later_occurrence(definition, fields, stamp))
        repeat = F.col("_repeat")
    observed, ts_error = parse_timestamp(stamp, definition.timestamp, repeat)
    # sub_hourly: observations at any minute, each belonging to the hour it falls in
    start = F.date_trunc("hour", observed) if definition.sub_hourly else observed
    out_of_window, window_detail = out_of_range(F.col("interval_start_utc"), definition.timestamp, "interval start")
    value_text, value = _numeric(F.col("_value_text"), spec, definition)
    label = F.when(F.col("source_column") != "", F.col("source_column")).otherwise(
        F.lit(spec.columns[0] if spec.columns else spec.name)
    )
    rows = rows.select(
        "*",
        start.alias("interval_start_utc"),
        observed.alias("_observed_at_utc"),
        ts_error.alias("_ts_error"),
        value_text.alias("_value_clean"),
        value.alias("_value"),
    )
    header_size = fields.header_size()
    # A CSV line with an odd number of quotes holds part of a quoted field that spans lines (a line break inside
    # quotes): Bronze keeps one physical line per row, so neither part is a whole record, whatever its field count.
    # `contains` first: splitting every line would cost the benchmark's tens of millions of quote-free lines.
    odd_quotes = F.col("raw_line").contains('"') & (F.size(F.split("raw_line", '"', -1)) % 2 == 0)
    split_quote = odd_quotes if definition.format == "csv" else F.lit(False)
    checks = [
        (
            split_quote | (F.col("field_count") != header_size),
            QuarantineReason.MALFORMED_ROW,
            F.when(
                split_quote,
                F.lit("line has an unbalanced quote: a quoted field with a line break spans this and another line"),
            ).otherwise(
                F.concat(
                    F.lit("line has "),
                    F.col("field_count").cast("string"),
                    F.lit(" fields, header has "),
                    header_size.cast("string"),
                )
            ),
        ),
        (F.col("_ts_error").isNotNull(), QuarantineReason.UNPARSEABLE_TIMESTAMP, F.col("_ts_error")),
        (
            F.col("interval_start_utc") != F.date_trunc("hour", "interval_start_utc"),
            QuarantineReason.UNPARSEABLE_TIMESTAMP,
            F.concat(
                F.lit("interval start "), F.col("interval_start_utc").cast("string"), F.lit(" UTC is not on the hour")
            ),
        ),
        (out_of_window, QuarantineReason.TIMESTAMP_OUT_OF_RANGE, window_detail),
    ]
    value_checks = [
        (
            F.col("_value_clean").isNull(),
            QuarantineReason.MISSING_VALUE,
            F.concat(
                label,
                F.lit(" has no value (raw "),
                F.coalesce(F.to_json(F.array("_value_text")), F.lit("null")),
                F.lit(")"),
            ),
        ),
        *_flag_checks(F.col("_value_clean"), spec, label),
        (
            F.col("_value").isNull(),
            QuarantineReason.NON_NUMERIC_VALUE,
            F.concat(label, F.lit(" = '"), F.col("_value_clean"), F.lit("' is not a number")),
        ),
        *_range_checks(F.col("_value"), spec, label, definition.dataset == "demand"),
    ]
    return rows, [*checks, *value_checks]


def _filter_checks(definition: SourceDefinition, fields: RawFields) -> list[tuple[Column, str, Column]]:
    """Rows the definition does not use (e.g. NOAA LCD's daily and monthly summary rows): excluded, not lost."""
    spec = definition.row_filter
    if spec is None:
        return []
    value = F.trim(fields.value(spec.columns))
    detail = F.concat(
        F.lit(f"{spec.columns[0]} = '"), F.coalesce(value, F.lit("")), F.lit(f"' is not in {list(spec.keep)}")
    )
    return [(~F.coalesce(value.isin(*spec.keep), F.lit(False)), QuarantineReason.EXCLUDED_BY_FILTER, detail)]


def fold_to_hour(rows: DataFrame, definition: SourceDefinition, key: list[str], value: str) -> DataFrame:
    """`sub_hourly`: every usable observation of a key's hour takes the hour's value (the mean, or the first / last
    in time), so the first is kept and the others count as its exact duplicates: one hourly value, every row
    accounted for. Rejected observations keep their reason and take no part in the value."""
    if not definition.sub_hourly:
        return rows
    usable = F.when(F.col("reason").isNull(), F.col(value))
    hour = Window.partitionBy(*key)
    if definition.sub_hourly == "mean":
        folded = F.avg(usable).over(hour)
    else:
        in_time = hour.orderBy("_observed_at_utc").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
        pick = F.first if definition.sub_hourly == "first" else F.last
        folded = pick(usable, ignorenulls=True).over(in_time)
    return rows.withColumn(value, F.when(F.col("reason").isNull(), folded).otherwise(F.col(value)))


def _later_occurrence(definition: SourceDefinition, fields: RawFields, stamp: Column) -> Column:
    """dst_repeat: file_order. True for every row after the first, in line order, with the same time label in the
    same file, value column, region, station and sub-region: the fall-back hour written twice without a marker."""
    keys = [F.col("source_file"), F.col("source_column"), stamp]
    for key in (definition.region, definition.station):
        if key is not None and key.origin == "column":
            keys.append(fields.value(key.columns))
    keys += [fields.value((c,)) for c in definition.sum_over]
    return F.row_number().over(Window.partitionBy(*keys).orderBy("source_row_number")) > 1


def _region_checks(region_text: Column, region_code: Column, what: str) -> tuple[Column, str, Column]:
    return (
        region_code.isNull(),
        QuarantineReason.UNKNOWN_REGION,
        F.concat(F.lit(f"{what} '"), F.coalesce(region_text, F.lit("<none>")), F.lit("' is not a known region")),
    )


def rejected_record(reason: Column, fields: RawFields) -> Column:
    """raw_record for a row the transform rejects; usable rows skip the JSON (build.py fills it for later
    quarantines from Bronze), which was a quarter of Silver's time on the benchmark."""
    return F.when(reason.isNotNull(), F.to_json(fields.record()))


def lineage_columns(reason: Column, detail: Column, fields: RawFields) -> list[Column | str]:
    """The columns every candidate ends with: where it came from, its fate so far and, when rejected, its raw row."""
    return [
        "source_file",
        "source_row_number",
        reason.alias("reason"),
        detail.alias("detail"),
        "source_column",
        rejected_record(reason, fields).alias("raw_record"),
    ]


def transform_demand(
    bronze: DataFrame, definition: SourceDefinition, fields: RawFields, regions: tuple[Region, ...]
) -> DataFrame:
    """Bronze rows of a demand source -> silver_demand__hourly candidates (+ reason, detail, source_column)."""
    rows, checks = _common(bronze, definition, fields)
    region_text = key_text(definition.region, fields, definition, header_column=F.col("source_column"))
    rows = rows.select("*", region_text.alias("_region_text"), region_lookup(region_text, regions).alias("region_code"))
    checks.insert(
        2, _region_checks(F.col("_region_text"), F.col("region_code"), f"region (from {definition.region.origin})")
    )
    reported = definition.field("reported_demand_mw")
    if reported is not None:
        reported_text, reported_value = _numeric(fields.value(reported.columns), reported, definition)
        checks.append(
            (
                reported_text.isNotNull() & reported_value.isNull(),
                QuarantineReason.NON_NUMERIC_VALUE,
                F.concat(F.lit(f"{reported.columns[0]} = '"), reported_text, F.lit("' is not a number")),
            )
        )
    else:
        reported_value = F.col("_value")
    category_spec = definition.field("imputation_category")
    category = (
        null_tokens_to_null(fields.value(category_spec.columns), ("",)) if category_spec else F.lit(None).cast("string")
    )
    ok_values = definition.imputation_ok_values
    is_imputed = category.isNotNull() & ~category.isin(*ok_values) if ok_values else category.isNotNull()
    reason, detail = first_failure([*_filter_checks(definition, fields), *checks])
    # Only a summing definition has sub-region ids; silver.candidates gives every other candidate a null one.
    sub_id = (
        [F.concat_ws("|", *[F.trim(fields.value((c,))) for c in definition.sum_over]).alias("_sub_id")]
        if definition.sum_over
        else []
    )
    return rows.select(
        F.lit(definition.source_id).alias("source_id"),
        "region_code",
        "interval_start_utc",
        (F.col("interval_start_utc") + hours_interval(1)).alias("interval_end_utc"),
        F.col("_value").alias("demand_mw"),
        reported_value.alias("reported_demand_mw"),
        category.alias("imputation_category"),
        F.coalesce(is_imputed, F.lit(False)).alias("is_imputed"),
        *lineage_columns(reason, detail, fields),
        *sub_id,
    )


def transform_weather(
    bronze: DataFrame, definition: SourceDefinition, fields: RawFields, regions: tuple[Region, ...]
) -> DataFrame:
    """Bronze rows of a weather source -> silver_weather__hourly candidates (+ reason, detail, source_column)."""
    rows, checks = _common(bronze, definition, fields)
    if definition.station is None:
        raise ValueError(f"{definition.definition_path}: a weather source needs a 'station' key")
    station_text = key_text(definition.station, fields, definition, header_column=F.col("source_column"))
    station = F.upper(F.trim(station_text))
    if definition.region.origin == "station":
        region_text, region_code = station, station_region_lookup(station, regions)
    else:
        region_text = key_text(definition.region, fields, definition, header_column=F.col("source_column"))
        region_code = region_lookup(region_text, regions)
    rows = rows.select(
        "*", station.alias("station_id"), region_text.alias("_region_text"), region_code.alias("region_code")
    )
    station_check = (
        F.col("station_id").isNull() | (F.col("station_id") == ""),
        QuarantineReason.UNKNOWN_REGION,
        F.lit(f"no weather station (from {definition.station.origin})"),
    )
    checks[2:2] = [station_check, _region_checks(F.col("_region_text"), F.col("region_code"), "station/region")]
    reason, detail = first_failure([*_filter_checks(definition, fields), *checks])
    candidates = rows.select(
        F.lit(definition.source_id).alias("source_id"),
        "station_id",
        "region_code",
        "interval_start_utc",
        F.col("_value").alias("temperature_c"),
        *lineage_columns(reason, detail, fields),
        "_observed_at_utc",
    )
    key = ["source_id", "station_id", "interval_start_utc"]
    return fold_to_hour(candidates, definition, key, "temperature_c").drop("_observed_at_utc")
