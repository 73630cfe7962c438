"""Validate and quote object names that arrive as procedure arguments, so argument text never becomes SQL.

Only the unquoted-identifier grammar is accepted (letters, digits, `_`, `$`; not starting with a digit); anything
else, including text that is already quoted, is refused. Accepted names are upper-cased and double-quoted, which
names the same object Snowflake resolves for the unquoted spelling.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .export_contract import BATCH_ID_PATTERN

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
# The export contract's pattern: ASCII digits only (Python's \d also matches Arabic-Indic and other Unicode digits).
BATCH_ID = re.compile(BATCH_ID_PATTERN)
BATCH_TIME = "%Y%m%dT%H%M%SZ"
# A batch id's stamp is the export's UTC start time; a day ahead covers clock skew, a later stamp is forged or broken
# (and would make every later LATEST look older than it).
BATCH_TIME_TOLERANCE = timedelta(days=1)
LATEST = "LATEST"  # the procedures' argument for the newest batch


class InvalidIdentifierError(ValueError):
    """An argument that should name an object does not follow Snowflake's unquoted-identifier grammar."""


def quote_identifier(name: str, what: str = "identifier") -> str:
    """`energy` -> `"ENERGY"`; raises InvalidIdentifierError for anything that is not a plain identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise InvalidIdentifierError(
            f"invalid {what} {name!r}: expected letters, digits, '_' or '$', starting with a letter or '_' "
            "(quoted identifiers, dots and other characters are refused)"
        )
    return f'"{name.upper()}"'


def quote_qualified_name(name: str, what: str = "object name", max_parts: int = 3) -> str:
    """`energy.curated.export_stage` -> `"ENERGY"."CURATED"."EXPORT_STAGE"`, each part validated."""
    if not isinstance(name, str) or not name:
        raise InvalidIdentifierError(f"invalid {what} {name!r}: empty")
    parts = name.split(".")
    if len(parts) > max_parts:
        raise InvalidIdentifierError(f"invalid {what} {name!r}: at most {max_parts} dot-separated parts")
    return ".".join(quote_identifier(part, what) for part in parts)


def validate_batch_id(batch_id: str, now: datetime | None = None) -> str:
    """A batch id as the export writes it (`20261125T201500Z-3f9a1c2b`: a real UTC time not later than a day from
    `now`, then 8 hex digits), or LATEST."""
    if isinstance(batch_id, str) and batch_id.upper() == LATEST:
        return LATEST
    if not isinstance(batch_id, str) or not BATCH_ID.fullmatch(batch_id):
        raise InvalidIdentifierError(
            f"invalid batch id {batch_id!r}: expected LATEST or UTC time + 8 hex digits (ASCII), e.g. "
            "20261125T201500Z-3f9a1c2b"
        )
    return check_batch_time(batch_id, now)


def batch_time(batch_id: str) -> datetime:
    """The UTC time a (well-formed) batch id starts with; InvalidIdentifierError when it is no real time."""
    try:
        return datetime.strptime(batch_id.split("-", 1)[0], BATCH_TIME).replace(tzinfo=UTC)
    except ValueError as error:
        raise InvalidIdentifierError(f"invalid batch id {batch_id!r}: its stamp is not a UTC time ({error})") from None


def check_batch_time(batch_id: str, now: datetime | None = None) -> str:
    stamp, now = batch_time(batch_id), now or datetime.now(UTC)
    if stamp > now + BATCH_TIME_TOLERANCE:
        raise InvalidIdentifierError(
            f"invalid batch id {batch_id!r}: its time {stamp:%Y-%m-%d %H:%M:%S} UTC is more than a day after now "
            f"({now:%Y-%m-%d %H:%M:%S} UTC)"
        )
    return batch_id
