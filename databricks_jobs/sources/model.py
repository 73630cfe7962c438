"""Declarative source definitions: one YAML file per source describes how its raw files are laid out.

The model is deliberately small; databricks_jobs/sources/README.md documents every field with examples.
Validation happens here, at load time, so a bad definition fails with the file and field named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databricks_jobs.sources.definition_types import check_types

DATASETS = ("demand", "weather", "outage_events")
FORMATS = ("csv", "xls")
SHAPES = ("long", "wide")
CONVENTIONS = ("hour_ending", "hour_beginning", "instant")
DST_REPEAT_RULES = ("file_order",)
SUB_HOURLY_RULES = ("mean", "first", "last")  # one hourly value from the observations within the hour
FLAG_ACTIONS = ("keep", "reject")
FIXED_OFFSET = re.compile(
    r"(?:UTC)?([+-]\d{2}:\d{2})"
)  # a fixed offset, e.g. local standard time all year  # how to tell unmarked repeats of the fall-back hour apart
KEY_ORIGINS = ("fixed", "column", "file_name", "header", "station")

# Unit conversions to the canonical unit named by the field's suffix (_mw -> MW, _c -> C): (scale, offset)
# applied as value * scale + offset, except Fahrenheit which needs the offset first.
UNIT_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "MW": {"MW": (1.0, 0.0), "kW": (0.001, 0.0), "W": (1e-6, 0.0), "GW": (1000.0, 0.0)},
    "C": {"C": (1.0, 0.0), "tenths_C": (0.1, 0.0), "K": (1.0, -273.15), "F": (5.0 / 9.0, -32.0 * 5.0 / 9.0)},
    "minutes": {"minutes": (1.0, 0.0), "hours": (60.0, 0.0), "seconds": (1.0 / 60.0, 0.0)},
    "count": {"count": (1.0, 0.0)},
}


# Limits on raw input (databricks_jobs/sources/README.md, "Limits"): a definition may raise them.
MAX_LINE_BYTES = 1 << 20  # csv.max_line_bytes
XLS_MAX_CELLS = 2_000_000  # xls.max_cells: rows x columns of the sheet read
# Limits on the definition file itself: no YAML document this small holds a source definition this large.
MAX_DEFINITION_BYTES = 1 << 20
MAX_PATTERN_CHARS = 1_000


class SourceDefinitionError(ValueError):
    """A source definition file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field read from the raw file (long shape) or per region column (wide shape)."""

    name: str
    columns: tuple[str, ...]  # header aliases, matched case- and space-insensitively; first present wins
    type: str = "double"  # double | string | bigint | date | timestamp
    unit: str | None = None  # the raw unit; converted to the canonical unit of UNIT_CONVERSIONS
    required: bool = True  # a null/missing value rejects the row (missing_value) when true
    valid_range: tuple[float | None, float | None] | None = None  # outside -> absurd_value / negative_demand
    flags: dict[str, str] = field(default_factory=dict)  # value suffix ('s' = suspect) -> keep | reject

    @property
    def canonical_unit(self) -> str | None:
        if self.unit is None:
            return None
        for canonical, conversions in UNIT_CONVERSIONS.items():
            if self.unit in conversions:
                return canonical
        raise SourceDefinitionError(f"field {self.name}: unknown unit {self.unit!r}")


@dataclass(frozen=True)
class KeySpec:
    """Where a key (region, station) comes from: a fixed value, a column, the file name, or the wide header."""

    origin: str  # fixed | column | file_name | header | station
    value: str | None = None  # fixed
    columns: tuple[str, ...] = ()  # column aliases
    pattern: str | None = None  # file_name: regex with a named group `value`, searched in the file name
    mapping: dict[str, str] = field(default_factory=dict)  # source spelling -> canonical value, before resolution


@dataclass(frozen=True)
class RowFilter:
    """Rows whose column (by alias) holds one of `keep` (trimmed) are used; the others are excluded, counted."""

    columns: tuple[str, ...]
    keep: tuple[str, ...]


@dataclass(frozen=True)
class TimestampSpec:
    columns: tuple[tuple[str, ...], ...]  # one or more columns (each with aliases), joined with a space
    format: str  # Spark datetime pattern, e.g. "MM/dd/yyyy HH:mm" or "yyyy-MM-dd HH:mm:ss"
    alternative_formats: tuple[str, ...] = ()  # tried in order when `format` does not match (e.g. no seconds)
    time_zone: str = "UTC"  # "UTC" or an IANA zone for local wall-clock stamps
    convention: str = "instant"  # hour_ending | hour_beginning | instant
    allow_24_00: bool = False  # "24:00" means 00:00 of the next day
    dst_repeat_marker: str | None = None  # suffix on the second (standard-time) occurrence of a repeated hour
    excel_serial_dates: bool = False  # xls: numeric cells are Excel serial dates
    dst_repeat: str | None = None  # file_order: an unmarked repeated wall hour is daylight first, standard second
    valid_from: str | None = None  # 'yyyy-MM-dd[ HH:mm:ss]' UTC: earlier rows are timestamp_out_of_range
    valid_until: str | None = None  # the same, later rows; default: the run's time + 1 day

    @property
    def formats(self) -> tuple[str, ...]:
        return (self.format, *self.alternative_formats)


@dataclass(frozen=True)
class SourceDefinition:
    source_id: str
    dataset: str
    description: str
    files: tuple[str, ...]  # globs relative to raw_root
    format: str
    shape: str
    timestamp: TimestampSpec
    region: KeySpec
    fields: tuple[FieldSpec, ...]
    station: KeySpec | None = None
    null_tokens: tuple[str, ...] = ("",)
    imputation_ok_values: tuple[str, ...] = ()  # category values meaning "not imputed"; others set is_imputed
    wide_value_columns: tuple[str, ...] = ()  # wide: region columns; empty = every column not otherwise used
    wide_ignore_columns: tuple[str, ...] = ()
    sum_over: tuple[str, ...] = ()  # long: sub-region id columns (meter, feeder) summed to region-hour
    delimiter: str = ","
    encoding: str = "utf-8"
    max_line_bytes: int = MAX_LINE_BYTES  # csv: a file with a longer line is refused, naming the line
    header_row_max: int = 0  # xls: look for the header in the first N+1 rows (title rows before it)
    xls_max_bytes: int = 64 << 20  # xls: larger files are refused (xlrd reads a workbook whole, into memory)
    xls_sheet: str | int = 0  # xls: the sheet read (its name, or its 0-based index); other sheets are never loaded
    xls_max_cells: int = XLS_MAX_CELLS  # xls: a sheet of more rows x columns is refused before any frame is built
    options: dict[str, Any] = field(default_factory=dict)  # dataset-specific settings (e.g. outage thresholds)
    row_filter: RowFilter | None = None
    sub_hourly: str | None = None  # mean | first | last: observations within an hour folded into one value
    duplicate_columns: str = "refuse"  # refuse | number: a header naming a column twice
    definition_path: str = ""

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def bronze_table(self) -> str:
        return f"bronze_{self.source_id}__raw_rows"


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


class _Reader:
    """Pulls fields out of the YAML mapping, naming file and key in every error."""

    def __init__(self, path: str, raw: dict[str, Any]):
        self.path = path
        self.raw = raw

    def fail(self, key: str, problem: str) -> SourceDefinitionError:
        return SourceDefinitionError(f"{self.path}: field '{key}': {problem}")

    def get(self, mapping: dict[str, Any], key: str, prefix: str, default: Any = ..., choices: tuple = ()) -> Any:
        if key not in mapping:
            if default is ...:
                raise self.fail(f"{prefix}{key}", "is required")
            return default
        value = mapping[key]
        if choices and value not in choices:
            raise self.fail(f"{prefix}{key}", f"{value!r} is not one of {list(choices)}")
        return value

    def mapping(self, mapping: dict[str, Any], key: str, prefix: str = "", required: bool = True) -> dict[str, Any]:
        value = self.get(mapping, key, prefix, None if not required else ...)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{prefix}{key}", f"must be a mapping, got {type(value).__name__}")
        return value


def _key_spec(reader: _Reader, raw: dict[str, Any], key: str) -> KeySpec:
    spec = reader.mapping(raw, key)
    origin = reader.get(spec, "from", f"{key}.", choices=KEY_ORIGINS)
    pattern = spec.get("pattern")
    if origin == "file_name":
        if not pattern or "(?P<value>" not in pattern:
            raise reader.fail(f"{key}.pattern", "file_name needs a regex with a named group (?P<value>...)")
        try:
            file_name_regex(pattern)
        except ValueError as error:
            raise reader.fail(f"{key}.pattern", str(error)) from None
    if origin == "fixed" and not spec.get("value"):
        raise reader.fail(f"{key}.value", "is required when from: fixed")
    if origin == "column" and not spec.get("column"):
        raise reader.fail(f"{key}.column", "is required when from: column")
    return KeySpec(
        origin=origin,
        value=spec.get("value"),
        columns=_as_tuple(spec.get("column")),
        pattern=pattern,
        mapping={str(k): str(v) for k, v in (spec.get("map") or {}).items()},
    )


def file_name_regex(pattern: str) -> Any:
    """A definition's file-name regex, compiled by RE2: linear time in the name's length whatever the pattern (a
    backtracking engine can take minutes on `(a+)+$`), so RE2 refuses what it cannot do in linear time
    (backreferences, lookaround)."""
    import re2

    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"a pattern of {len(pattern):,} characters is longer than {MAX_PATTERN_CHARS}")
    try:
        return re2.compile(pattern)
    except re2.error as error:
        raise ValueError(f"{pattern!r} is not a regex RE2 runs in linear time ({error})") from None


def _field_spec(reader: _Reader, name: str, spec: dict[str, Any]) -> FieldSpec:
    if isinstance(spec, (str, list)):
        spec = {"column": spec}
    prefix = f"fields.{name}."
    valid_range = spec.get("valid_range")
    if valid_range is not None and (not isinstance(valid_range, list) or len(valid_range) != 2):
        raise reader.fail(f"{prefix}valid_range", "must be [min, max] (either may be null)")
    result = FieldSpec(
        name=name,
        columns=_as_tuple(spec.get("column", name)),
        type=reader.get(spec, "type", prefix, "double", ("double", "string", "bigint", "date", "timestamp")),
        unit=spec.get("unit"),
        required=bool(spec.get("required", True)),
        valid_range=tuple(valid_range) if valid_range is not None else None,
        flags={str(k): str(v) for k, v in (spec.get("flags") or {}).items()},
    )
    bad_flags = {k: v for k, v in result.flags.items() if v not in FLAG_ACTIONS or not k or any(c.isdigit() for c in k)}
    if bad_flags:
        raise reader.fail(f"{prefix}flags", f"{bad_flags}: each flag is a non-digit suffix -> one of {FLAG_ACTIONS}")
    try:
        result.canonical_unit  # noqa: B018 - validates the unit
    except SourceDefinitionError as error:
        raise reader.fail(f"{prefix}unit", str(error)) from None
    return result


def parse_definition(raw: dict[str, Any], path: str = "<dict>") -> SourceDefinition:
    """Validate one YAML mapping into a SourceDefinition; errors name the file and field."""
    if not isinstance(raw, dict):
        raise SourceDefinitionError(f"{path}: a source definition must be a YAML mapping")
    reader = _Reader(path, raw)
    check_types(raw, reader.fail)
    source_id = reader.get(raw, "source_id", "")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(source_id)):
        raise reader.fail("source_id", f"{source_id!r} must be lower_snake_case")
    fmt = reader.get(raw, "format", "", "csv", FORMATS)
    shape = reader.get(raw, "shape", "", "long", SHAPES)
    ts = reader.mapping(raw, "timestamp")
    ts_columns = ts.get("column") or ts.get("columns")
    if not ts_columns:
        raise reader.fail("timestamp.column", "is required")
    if isinstance(ts_columns, str):
        ts_columns = [ts_columns]
    time_zone = str(reader.get(ts, "time_zone", "timestamp.", "UTC"))
    offset = FIXED_OFFSET.fullmatch(time_zone)
    if offset:
        time_zone = offset.group(1)  # Spark's zone functions take '-05:00' as a fixed offset
    else:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(time_zone)
        except Exception:  # noqa: BLE001 - any failure means the zone name is unusable
            raise reader.fail(
                "timestamp.time_zone", f"{time_zone!r} is neither an IANA time zone nor a fixed offset like -05:00"
            ) from None
    formats = _as_tuple(reader.get(ts, "format", "timestamp."))
    if not formats:
        raise reader.fail("timestamp.format", "needs at least one pattern")
    timestamp = TimestampSpec(
        columns=tuple(_as_tuple(c) for c in ts_columns),
        format=formats[0],
        alternative_formats=formats[1:],
        time_zone=time_zone,
        convention=reader.get(ts, "convention", "timestamp.", "instant", CONVENTIONS),
        allow_24_00=bool(ts.get("allow_24_00", False)),
        dst_repeat_marker=ts.get("dst_repeat_marker"),
        excel_serial_dates=bool(ts.get("excel_serial_dates", False)),
        dst_repeat=reader.get(ts, "dst_repeat", "timestamp.", None, (None, *DST_REPEAT_RULES)),
        valid_from=_instant_text(reader, ts, "valid_from"),
        valid_until=_instant_text(reader, ts, "valid_until"),
    )
    if timestamp.dst_repeat and timestamp.dst_repeat_marker:
        raise reader.fail("timestamp.dst_repeat", "a source marks its repeated hour or relies on file order, not both")
    if timestamp.dst_repeat and time_zone == "UTC":
        raise reader.fail("timestamp.dst_repeat", "UTC stamps never repeat; it needs a local time_zone")
    fields_raw = reader.mapping(raw, "fields", required=shape == "long")
    fields = tuple(_field_spec(reader, name, spec or {}) for name, spec in fields_raw.items())
    wide = reader.mapping(raw, "wide", required=False)
    dataset = reader.get(raw, "dataset", "", choices=DATASETS)
    if shape == "wide":
        value = wide.get("value") or {}
        fields = (_field_spec(reader, wide.get("field", _default_value_field(dataset)), {"column": [], **value}),)
    files = _as_tuple(reader.get(raw, "files", ""))
    if not files:
        raise reader.fail("files", "needs at least one glob")
    for glob in files:
        if _leaves_raw_root(glob):
            raise reader.fail("files", f"{glob!r} leaves the raw root: a glob is relative to it, without '..'")
    region = _key_spec(reader, raw, "region")
    if shape == "wide" and region.origin != "header":
        raise reader.fail("region.from", "a wide file takes its regions from the header (from: header)")
    station = _key_spec(reader, raw, "station") if "station" in raw else None
    csv_options, xls = raw.get("csv") or {}, raw.get("xls") or {}
    encoding = str(csv_options.get("encoding", "utf-8"))
    delimiter = str(csv_options.get("delimiter", ","))
    if not delimiter or delimiter in ('"', "\n", "\r", "\x00"):
        raise reader.fail("csv.delimiter", f"{delimiter!r} cannot separate fields")
    for key, value in (
        ("csv.max_line_bytes", csv_options.get("max_line_bytes")),
        ("xls.max_cells", xls.get("max_cells")),
    ):
        if value is not None and value < 1:
            raise reader.fail(key, f"{value} must be a positive whole number")
    if encoding.lower().replace("-", "") != "utf8":
        # Spark's text reader (the only CSV path, for scale) reads UTF-8.
        raise reader.fail("csv.encoding", f"{encoding!r}: only utf-8 is supported; re-encode the file upstream")
    if region.origin == "station" and station is None:
        raise reader.fail("station", "is required when region.from is station")
    if raw.get("sub_hourly") and dataset != "weather":
        raise reader.fail("sub_hourly", "folds observations into hours for weather sources only")
    if dataset == "outage_events" and ("filter" in raw or any(f.flags for f in fields)):
        raise reader.fail("filter", "filter and value flags apply to demand and weather sources (not outage_events)")
    row_filter = None
    if "filter" in raw:
        spec = reader.mapping(raw, "filter")
        columns, keep = _as_tuple(spec.get("column")), tuple(v.strip() for v in _as_tuple(spec.get("keep")))
        if not columns or not keep:
            raise reader.fail("filter", "needs column (aliases) and keep (values)")
        row_filter = RowFilter(columns, keep)
    return SourceDefinition(
        source_id=source_id,
        dataset=dataset,
        description=str(raw.get("description", "")).strip(),
        files=files,
        format=fmt,
        shape=shape,
        timestamp=timestamp,
        region=region,
        fields=fields,
        station=station,
        null_tokens=tuple(str(t) for t in raw.get("null_tokens", [""])),
        imputation_ok_values=_as_tuple((raw.get("imputation") or {}).get("ok_values")),
        wide_value_columns=_as_tuple(wide.get("value_columns")),
        wide_ignore_columns=_as_tuple(wide.get("ignore_columns")),
        sum_over=_as_tuple(raw.get("sum_over")),
        delimiter=delimiter,
        encoding=encoding,
        max_line_bytes=csv_options.get("max_line_bytes", MAX_LINE_BYTES),
        header_row_max=xls.get("header_search_rows", 0),
        xls_max_bytes=int(float(xls.get("max_megabytes", 64)) * (1 << 20)),
        xls_sheet=xls.get("sheet", 0),
        xls_max_cells=xls.get("max_cells", XLS_MAX_CELLS),
        options=dict(raw.get("options") or {}),
        row_filter=row_filter,
        sub_hourly=reader.get(raw, "sub_hourly", "", None, (None, *SUB_HOURLY_RULES)),
        duplicate_columns=reader.get(raw, "duplicate_columns", "", "refuse", ("refuse", "number")),
        definition_path=path,
    )


def _instant_text(reader: _Reader, ts: dict[str, Any], key: str) -> str | None:
    """A window bound as 'yyyy-MM-dd[ HH:mm:ss]' (YAML may have read it as a date already)."""
    import datetime as dt

    value = ts.get(key)
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise reader.fail(f"timestamp.{key}", f"{value!r} is not a date (yyyy-MM-dd[ HH:mm:ss], UTC)") from None


def _default_value_field(dataset: str) -> str:
    return {"demand": "demand_mw", "weather": "temperature_c"}.get(dataset, "value")


def _leaves_raw_root(glob: str) -> bool:
    """An absolute glob, a URI, or one with a '..' segment reaches files outside the raw root."""
    parts = glob.replace("\\", "/").split("/")
    return glob.startswith(("/", "~")) or "://" in glob or ":" in parts[0] or ".." in parts


def load_definition_file(path: Path) -> SourceDefinition:
    """Parse one definition file: plain YAML only (no aliases, which let a few hundred bytes expand to gigabytes),
    at most MAX_DEFINITION_BYTES, every field of its declared type."""
    from databricks_jobs.sources.yaml_plain import PlainYamlError, load_plain_yaml

    size = path.stat().st_size
    if size > MAX_DEFINITION_BYTES:
        raise SourceDefinitionError(
            f"{path}: {size:,} bytes; a source definition holds at most {MAX_DEFINITION_BYTES:,}"
        )
    try:
        raw = load_plain_yaml(path.read_text(encoding="utf-8"))
    except PlainYamlError as error:
        raise SourceDefinitionError(f"{path}: {error}") from None
    return parse_definition(raw, str(path))
