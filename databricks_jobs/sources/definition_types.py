"""The type of every field a source definition may hold, checked before anything reads the values: a definition
whose `description` is a mapping, or whose `required` is the string "false", is refused naming the field, instead of
being turned into something else by str() or bool(). Unknown keys are refused too (a misspelt key would otherwise be
ignored silently). `options` are the dataset's own settings (silver/outages.py documents them) and are not listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

TEXT = (str,)
NUMBER = (int, float)
WHOLE = (int,)
FLAG = (bool,)
MAPPING = (dict,)
TEXTS = (str, list)  # one text or a list of texts
DATE = (str, dt.date)  # YAML reads 2021-01-01 as a date

TOP_LEVEL: dict[str, tuple[type, ...]] = {
    "source_id": TEXT,
    "dataset": TEXT,
    "description": TEXT,
    "files": TEXTS,
    "format": TEXT,
    "shape": TEXT,
    "timestamp": MAPPING,
    "region": MAPPING,
    "station": MAPPING,
    "fields": MAPPING,
    "wide": MAPPING,
    "null_tokens": (list,),
    "imputation": MAPPING,
    "sum_over": TEXTS,
    "csv": MAPPING,
    "xls": MAPPING,
    "options": MAPPING,
    "filter": MAPPING,
    "sub_hourly": TEXT,
    "duplicate_columns": TEXT,
}
NESTED: dict[str, dict[str, tuple[type, ...]]] = {
    "timestamp": {
        "column": TEXTS,
        "columns": TEXTS,
        "format": TEXTS,
        "time_zone": TEXT,
        "convention": TEXT,
        "allow_24_00": FLAG,
        "dst_repeat_marker": TEXT,
        "excel_serial_dates": FLAG,
        "dst_repeat": TEXT,
        "valid_from": DATE,
        "valid_until": DATE,
    },
    "region": {"from": TEXT, "value": TEXT, "column": TEXTS, "pattern": TEXT, "map": MAPPING},
    "station": {"from": TEXT, "value": TEXT, "column": TEXTS, "pattern": TEXT, "map": MAPPING},
    "wide": {"field": TEXT, "value": MAPPING, "value_columns": TEXTS, "ignore_columns": TEXTS},
    "imputation": {"ok_values": TEXTS},
    "csv": {"delimiter": TEXT, "encoding": TEXT, "max_line_bytes": WHOLE},
    "xls": {"header_search_rows": WHOLE, "max_megabytes": NUMBER, "sheet": (str, int), "max_cells": WHOLE},
    "filter": {"column": TEXTS, "keep": (str, list, int, float)},
}
FIELD: dict[str, tuple[type, ...]] = {
    "column": TEXTS,
    "type": TEXT,
    "unit": TEXT,
    "required": FLAG,
    "valid_range": (list,),
    "flags": MAPPING,
}
SCALAR = (str, int, float)


def _name(types: tuple[type, ...]) -> str:
    return " or ".join({str: "text", int: "a whole number", float: "a number", bool: "true/false", dict: "a mapping",
                        list: "a list", dt.date: "a date"}[t] for t in types)  # fmt: skip


def _check(key: str, value: Any, types: tuple[type, ...], fail: Callable[[str, str], Exception]) -> None:
    if value is None:
        return  # absent; whether it is required is the parser's question
    # bool is an int in Python: a whole number field must not take `true`.
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise fail(key, f"must be {_name(types)}, got {type(value).__name__} {value!r:.60}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, list):  # a multi-part column: each part a list of aliases
                for part in item:
                    _check(f"{key}[{index}]", part, SCALAR, fail)
            else:
                _check(f"{key}[{index}]", item, SCALAR, fail)
    if isinstance(value, dict) and key.endswith(("map", "flags")):
        for name, item in value.items():
            _check(f"{key}.{name}", item, SCALAR, fail)


def _check_mapping(
    prefix: str, raw: dict[str, Any], allowed: dict[str, tuple[type, ...]], fail: Callable[[str, str], Exception]
) -> None:
    for key, value in raw.items():
        if key not in allowed:
            raise fail(f"{prefix}{key}", f"is not a definition field; known: {sorted(allowed)}")
        _check(f"{prefix}{key}", value, allowed[key], fail)


def check_types(raw: dict[str, Any], fail: Callable[[str, str], Exception]) -> None:
    """Raise fail(key, problem) for the first field of a wrong type or an unknown key."""
    _check_mapping("", raw, TOP_LEVEL, fail)
    for section, allowed in NESTED.items():
        if isinstance(raw.get(section), dict):
            _check_mapping(f"{section}.", raw[section], allowed, fail)
    for name, spec in (raw.get("fields") or {}).items():
        if isinstance(spec, dict):
            _check_mapping(f"fields.{name}.", spec, FIELD, fail)
        else:
            _check(f"fields.{name}", spec, (str, list), fail)
    value = (raw.get("wide") or {}).get("value")
    if isinstance(value, dict):
        _check_mapping("wide.value.", value, FIELD, fail)
