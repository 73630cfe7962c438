"""How one CSV line splits into raw field strings, as Spark column expressions: Bronze counts a line's fields with
it, Silver reads fields with it, so both see the same fields."""

from __future__ import annotations

import re

import pyspark.sql.functions as F
from pyspark.sql import Column


def split_fields(line: Column, delimiter: str) -> Column:
    """Split one CSV line into raw field strings; quote-aware only where the line has a quote (the rare case)."""
    delim = re.escape(delimiter)
    quote_aware = f'{delim}(?=(?:[^"]*"[^"]*")*[^"]*$)'
    unquoted = F.transform(
        F.split(line, quote_aware, -1),
        lambda v: F.regexp_replace(F.regexp_replace(v, r'^\s*"(.*)"\s*$', "$1"), '""', '"'),
    )
    return F.when(line.contains('"'), unquoted).otherwise(F.split(line, delim, -1))


def field_count(line: Column, delimiter: str) -> Column:
    """size(split_fields(line)) without building the array where the line has no quote: delimiters + 1 (0 for an
    empty line)."""
    delimiters = (F.length(line) - F.length(F.replace(line, F.lit(delimiter), F.lit("")))) / len(delimiter)
    plain = (delimiters + 1).cast("int")
    counted = F.when(line.contains('"'), F.size(split_fields(line, delimiter))).otherwise(plain)
    return F.when(line == "", F.lit(0)).otherwise(counted)
