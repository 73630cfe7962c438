"""How one CSV line splits into raw field strings, as Spark column expressions: Bronze counts a line's fields with
it, Silver reads fields with it, so both see the same fields.

Linear in the line's length, whatever the line holds: a line without a quote is split on its delimiter (a literal);
a line with quotes is split on its quotes first, so the delimiters outside quotes (those in the even-numbered pieces)
are found by position, not by a regular expression looking ahead to the line's end (that one was quadratic and
overflowed the JVM's stack on a 20 KB line of quoted fields). A quoted field may hold the delimiter and doubled
quotes ("" for "), as RFC 4180 and Python's csv module read it. Bronze refuses files holding a NUL byte, so NUL can
mark the field boundaries inside this expression.

Not as Python's csv (nor Spark's CSV reader, unescapedQuoteHandling STOP_AT_DELIMITER): a quote inside an unquoted
field (`a,12" pipe,b`) is a literal there, but here every quote toggles "inside quotes" (parity): telling a
field-opening quote from a literal one needs the state after every earlier character, which split/transform cannot
carry and aggregate carries only by copying its state per step (quadratic). The difference shows instead of
misleading: an odd count is quarantined by Silver as an unbalanced quote; an even count whose stretch holds no
delimiter reads as csv reads it, one that holds delimiters hides them, so the line has fewer fields than its header
(malformed_row for demand and weather; the outage transform does not compare field counts). The sources README
("Limits", quotes) says so to the user.
"""

from __future__ import annotations

import re

import pyspark.sql.functions as F
from pyspark.sql import Column

BOUNDARY = "\x00"  # never in a line Bronze holds (raw_files.scan_text refuses a file with a NUL byte)


def _unquoted(field: Column) -> Column:
    """A field's text: the quotes around a quoted field removed ('"a,b"' -> 'a,b'), doubled quotes made single."""
    return F.replace(F.regexp_replace(field, r'^\s*"(.*)"\s*$', "$1"), F.lit('""'), F.lit('"'))


def _quoted_split(line: Column, delimiter: str) -> Column:
    pieces = F.split(line, '"', -1)  # even-numbered pieces lie outside quotes, odd-numbered ones inside
    marked = F.transform(
        pieces,
        lambda piece, i: F.when(i % 2 == 0, F.replace(piece, F.lit(delimiter), F.lit(BOUNDARY))).otherwise(piece),
    )
    fields = F.split(F.array_join(marked, '"'), BOUNDARY, -1)
    return F.transform(fields, _unquoted)


def split_fields(line: Column, delimiter: str) -> Column:
    """Split one CSV line into raw field strings (quote-aware where the line has a quote, the rare case)."""
    return F.when(line.contains('"'), _quoted_split(line, delimiter)).otherwise(F.split(line, re.escape(delimiter), -1))


def field_count(line: Column, delimiter: str) -> Column:
    """size(split_fields(line)) without building the array where the line has no quote: delimiters + 1 (0 for an
    empty line)."""
    delimiters = (F.length(line) - F.length(F.replace(line, F.lit(delimiter), F.lit("")))) / len(delimiter)
    plain = (delimiters + 1).cast("int")
    counted = F.when(line.contains('"'), F.size(_quoted_split(line, delimiter))).otherwise(plain)
    return F.when(line == "", F.lit(0)).otherwise(counted)
