"""Column expressions that type raw strings the way a source definition says: timestamps, numbers, units, regions.

All are Spark expressions (no Python UDFs), so they scale to the benchmark's tens of millions of rows. Timestamp
arithmetic relies on the session time zone being UTC (spark_session.get_spark sets it; build_silver checks it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.bronze.csv_line import split_fields
from databricks_jobs.reference.regions import Region, alias_map
from databricks_jobs.sources.aliases import normalise_header
from databricks_jobs.sources.model import (
    UNIT_CONVERSIONS,
    FieldSpec,
    KeySpec,
    SourceDefinition,
    TimestampSpec,
    file_name_regex,
)


def hours_interval(n: int) -> Column:
    """An interval literal; built per call because Column expressions need a running SparkContext."""
    return F.expr(f"INTERVAL {n} HOUR")


@dataclass(frozen=True)
class RawFields:
    """Fields of Bronze's `raw_line` by alias: `split` adds each row's fields (`_fields`, the line split as Bronze
    counted it, or an .xls row's JSON array) and its file's header layout (`_layout`); a field is then read by its
    position in that header. Bronze logs each file's header once (bronze__ingested_files.header_json) instead of
    storing a header -> value map on every row.

    `layouts`: the distinct headers of the files at hand; `layout_of`: file -> index in `layouts` (needed only when
    there are several). Aliases are matched to positions once, here, as sources.aliases.find_column does (case,
    spaces, BOM: the first alias the header has).
    """

    layouts: tuple[tuple[str, ...], ...]
    layout_of: Mapping[str, int] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # the files at hand (source_file), for what is read from a file's name

    @classmethod
    def of(cls, headers: Mapping[str, Sequence[str]]) -> RawFields:
        """From each file's header (source_file -> header names)."""
        layouts = tuple(dict.fromkeys(tuple(h) for h in headers.values()))
        layout_of = {name: layouts.index(tuple(h)) for name, h in headers.items()} if len(layouts) > 1 else {}
        return cls(layouts or ((),), layout_of, tuple(sorted(headers)))

    def header_of(self, source_file: str) -> tuple[str, ...]:
        return self.layouts[self.layout_of.get(source_file, 0)]

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header name of the files at hand, in header order."""
        return tuple(dict.fromkeys(h for layout in self.layouts for h in layout))

    def split(self, bronze: DataFrame, definition: SourceDefinition) -> DataFrame:
        """Bronze rows with `_fields` and `_layout` (a broadcast join on the file when files differ in header)."""
        if definition.format == "xls":
            fields = F.from_json("raw_line", "array<string>")
        else:
            fields = split_fields(F.col("raw_line"), definition.delimiter)
        rows = bronze.withColumn("_fields", fields)
        if len(self.layouts) == 1:
            return rows.withColumn("_layout", F.lit(0))
        files = lake.rows_frame(bronze.sparkSession, sorted(self.layout_of.items()), "source_file string, _layout int")
        return rows.join(F.broadcast(files), "source_file", "left")

    def _per_layout(self, values: list[Column]) -> Column:
        """One expression per layout -> the row's (a single layout needs no choice)."""
        if len(values) == 1:
            return values[0]
        result = F.when(F.col("_layout") == 0, values[0])
        for index, value in enumerate(values[1:], start=1):
            result = result.when(F.col("_layout") == index, value)
        return result

    def _position(self, aliases: tuple[str, ...]) -> Column | None:
        """1-based position of the first alias the row's header has; None when no header has one."""
        wanted = [normalise_header(a) for a in aliases]
        positions = []
        for layout in self.layouts:
            names = [normalise_header(h) for h in layout]
            positions.append(next((names.index(a) + 1 for a in wanted if a in names), None))
        if all(p is None for p in positions):
            return None
        if len(set(positions)) == 1:
            return F.lit(positions[0])
        return self._per_layout([F.lit(p) if p is not None else F.lit(None).cast("int") for p in positions])

    def value(self, aliases: tuple[str, ...]) -> Column:
        """The raw text of the first alias present in the row's file; null when no header matches or the line is
        short."""
        position = self._position(aliases)
        if position is None:
            return F.lit(None).cast("string")
        return F.try_element_at(F.col("_fields"), position)

    def header_size(self) -> Column:
        """How many names the row's header has."""
        return self._per_layout([F.lit(len(layout)) for layout in self.layouts])

    def _named(self, layout: tuple[str, ...], names: Sequence[str]) -> list[tuple[str, Column]]:
        """(name, raw text) of the header's names among `names`, in header order."""
        return [(h, F.try_element_at(F.col("_fields"), F.lit(i + 1))) for i, h in enumerate(layout) if h in names]

    def record(self) -> Column:
        """The row as a map header name -> raw text: what silver__quarantine.raw_record shows (as JSON)."""
        pairs = [self._named(lay, lay) for lay in self.layouts]
        return self._per_layout([F.create_map(*[x for k, v in kv for x in (F.lit(k), v)]) for kv in pairs])

    def cells(self, names: Sequence[str]) -> Column:
        """The row's (key = header name, value = raw text) for these names, in header order: a wide line's cells."""

        def entries(layout: tuple[str, ...]) -> Column:
            pairs = self._named(layout, names)
            if not pairs:
                return F.array().cast("array<struct<key:string,value:string>>")
            return F.array(*[F.struct(F.lit(k).alias("key"), v.alias("value")) for k, v in pairs])

        return self._per_layout([entries(layout) for layout in self.layouts])


def null_tokens_to_null(text: Column, tokens: tuple[str, ...]) -> Column:
    """Null when the trimmed text is one of the source's null tokens ('Unknown ' matches 'Unknown')."""
    trimmed = F.trim(text)
    tokens = tuple({t.strip() for t in tokens})
    return F.when(trimmed.isin(*tokens), F.lit(None).cast("string")).otherwise(trimmed)


def parse_double(text: Column) -> Column:
    """The number, or null when the text is not a finite number (NaN and Infinity count as non-numeric)."""
    value = text.try_cast("double")
    return F.when(F.isnan(value) | (F.abs(value) == float("inf")), F.lit(None).cast("double")).otherwise(value)


def convert_unit(value: Column, spec: FieldSpec) -> Column:
    if spec.unit is None:
        return value
    scale, offset = UNIT_CONVERSIONS[spec.canonical_unit][spec.unit]
    return value * F.lit(scale) + F.lit(offset) if (scale, offset) != (1.0, 0.0) else value


def date_pattern(fmt: str) -> str:
    """The date part of a date-time pattern: 'MM/dd/yyyy HH:mm' -> 'MM/dd/yyyy', "yyyy-MM-dd'T'HH:mm" -> yyyy-MM-dd."""
    return re.split(r"\s|'T'|T(?=H)", fmt, maxsplit=1)[0]


def timestamp_text(fields: RawFields, spec: TimestampSpec) -> Column:
    """The timestamp column(s) joined with a space; an Excel serial date in the first part becomes a date string."""
    parts = [F.trim(fields.value(aliases)) for aliases in spec.columns]
    if spec.excel_serial_dates:
        serial = parts[0]
        as_date = F.date_format(
            F.date_add(F.lit("1899-12-30").cast("date"), serial.try_cast("int")), date_pattern(spec.format)
        )
        parts[0] = F.when(serial.rlike(r"^\d{4,6}$"), as_date).otherwise(serial)
    return F.concat_ws(" ", *parts) if len(parts) > 1 else parts[0]


def parse_wall_time(text: Column, formats: tuple[str, ...]) -> Column:
    """The wall-clock time of the first pattern that matches the text (null when none does)."""
    parsed = [F.try_to_timestamp(text, F.lit(fmt)) for fmt in formats]
    return F.coalesce(*parsed) if len(parsed) > 1 else parsed[0]


def parse_timestamp(text: Column, spec: TimestampSpec, repeat: Column | None = None) -> tuple[Column, Column]:
    """(interval start as a UTC instant, error detail) for a raw time text, per the definition's time convention.

    Local wall-clock stamps: hour-ending labels become hour-beginning by subtracting one hour of wall-clock time
    (so '24:00' is 23:00 of the same day); a wall time in the repeated fall-back hour is the first (daylight)
    occurrence unless it carries the DST repeat marker, which selects the second (standard) one; a wall time in the
    spring-forward gap does not exist and is an error. `repeat` (a boolean column, for `dst_repeat: file_order`)
    says a row is a later occurrence of its label: it selects the standard-time instant where the hour repeats and
    is ignored elsewhere (there, a repeated label is a duplicate for de-duplication to judge).
    """
    clean = F.trim(text)
    is_repeat = F.lit(False)
    if spec.dst_repeat_marker:
        marker = spec.dst_repeat_marker.strip()
        is_repeat = clean.endswith(marker)
        clean = F.trim(F.regexp_replace(clean, re.escape(marker) + "$", ""))
    is_24 = F.lit(False)
    if spec.allow_24_00:
        is_24 = clean.rlike(r"(^|\s|T)24:00(:00)?$")
        clean = F.regexp_replace(clean, r"(^|\s|T)24:(00(:00)?)$", "$100:$2")
    wall = parse_wall_time(clean, spec.formats)
    wall = F.when(is_24, wall + F.expr("INTERVAL 1 DAY")).otherwise(wall)
    start_wall = wall - hours_interval(1) if spec.convention == "hour_ending" else wall
    shown = " | ".join(spec.formats)
    unparseable = F.concat(F.lit("time '"), text, F.lit(f"' does not match format '{shown}'"))
    if spec.time_zone == "UTC":
        error = F.when(text.isNull(), F.lit("no time value")).when(wall.isNull(), unparseable)
        return F.when(error.isNull(), start_wall), error
    zone = spec.time_zone
    first = F.to_utc_timestamp(start_wall, zone)
    # A repeated wall hour maps to two instants; the later one is found from the next hour's (unambiguous) offset.
    second = F.to_utc_timestamp(start_wall + hours_interval(1), zone) - hours_interval(1)
    is_ambiguous = first != second
    marked_repeat = is_repeat
    if repeat is not None:
        is_repeat = repeat
    nonexistent = F.from_utc_timestamp(first, zone) != start_wall
    error = (
        F.when(text.isNull(), F.lit("no time value"))
        .when(wall.isNull(), unparseable)
        .when(nonexistent, F.concat(F.lit("time '"), text, F.lit(f"' does not exist in {zone} (DST gap)")))
        .when(
            marked_repeat & ~is_ambiguous,
            F.concat(F.lit("time '"), text, F.lit(f"' has the DST repeat marker but is not a repeated hour in {zone}")),
        )
    )
    return F.when(error.isNull(), F.when(is_repeat & is_ambiguous, second).otherwise(first)), error


def out_of_range(instant: Column, spec: TimestampSpec, what: str) -> tuple[Column, Column]:
    """(condition, detail) of an instant outside the source's plausible window: [valid_from, valid_until], the upper
    bound by default the run's time + 1 day, so one row dated 9999 cannot stretch every 'last N days' window."""
    upper = (
        F.lit(spec.valid_until).cast("timestamp")
        if spec.valid_until
        else F.current_timestamp() + F.expr("INTERVAL 1 DAY")
    )
    lower = F.lit(spec.valid_from).cast("timestamp") if spec.valid_from else None
    shown_upper = spec.valid_until or "now + 1 day"
    condition = instant > upper if lower is None else (instant < lower) | (instant > upper)
    window = f"[{spec.valid_from or '-'}, {shown_upper}] UTC"
    detail = F.concat(F.lit(f"{what} "), instant.cast("string"), F.lit(f" UTC is outside the source's window {window}"))
    return F.coalesce(condition, F.lit(False)), detail


def _normalise_alias_expr(text: Column) -> Column:
    """Spark twin of reference.regions._normalise_alias (case-, space-, dash- and underscore-insensitive)."""
    return F.lower(F.trim(F.regexp_replace(F.regexp_replace(text, r"[-_]", " "), r"\s+", " ")))


def region_lookup(text: Column, regions: tuple[Region, ...]) -> Column:
    """Canonical region_code for any known spelling (the regions' aliases), null when unknown."""
    mapping = alias_map(regions)
    lookup = F.create_map(*[F.lit(x) for kv in sorted(mapping.items()) for x in kv])
    return F.element_at(lookup, _normalise_alias_expr(text))


def _apply_map(text: Column, key: KeySpec) -> Column:
    if not key.mapping:
        return text
    normalised = {k.strip().lower(): v for k, v in key.mapping.items()}
    lookup = F.create_map(*[F.lit(x) for kv in sorted(normalised.items()) for x in kv])
    return F.coalesce(F.element_at(lookup, F.lower(F.trim(text))), text)


def file_name_values(pattern: str, files: Sequence[str]) -> dict[str, str]:
    """The `value` group of a file-name pattern in each file's name, once per file (not per row), by RE2 (linear
    time, see sources.model.file_name_regex); a name it does not match maps to nothing (the key is then unknown)."""
    regex = file_name_regex(pattern)
    values = {}
    for name in files:
        match = regex.search(name)
        if match is not None and match.group("value"):
            values[name] = match.group("value")
    return values


def _literal_map(mapping: Mapping[str, str]) -> Column:
    if not mapping:
        return F.create_map().cast("map<string,string>")
    return F.create_map(*[F.lit(x) for kv in sorted(mapping.items()) for x in kv])


def key_text(
    key: KeySpec, fields: RawFields, definition: SourceDefinition, header_column: Column | None = None
) -> Column:
    """The raw spelling of a region or station, from wherever the definition says (before resolution)."""
    if key.origin == "fixed":
        text = F.lit(key.value)
    elif key.origin == "column":
        text = null_tokens_to_null(fields.value(key.columns), definition.null_tokens)
    elif key.origin == "file_name":
        text = F.element_at(_literal_map(file_name_values(key.pattern, fields.files)), F.col("source_file"))
    elif key.origin == "header":
        text = header_column
    else:
        raise ValueError(f"{definition.definition_path}: key origin {key.origin!r} has no raw text")
    return _apply_map(text, key)


def station_region_lookup(station: Column, regions: tuple[Region, ...]) -> Column:
    """The region whose weather station is this station id (regions.csv weather_station_id)."""
    pairs = sorted((r.weather_station_id, r.region_code) for r in regions if r.weather_station_id)
    return F.element_at(F.create_map(*[F.lit(x) for kv in pairs for x in kv]), F.upper(F.trim(station)))
