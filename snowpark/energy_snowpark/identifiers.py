"""Validate and quote object names that arrive as procedure arguments, so argument text never becomes SQL.

Only the unquoted-identifier grammar is accepted (letters, digits, `_`, `$`; not starting with a digit); anything
else, including text that is already quoted, is refused. Accepted names are upper-cased and double-quoted, which
names the same object Snowflake resolves for the unquoted spelling.
"""

from __future__ import annotations

import re

from .export_contract import BATCH_ID_PATTERN

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
BATCH_ID = re.compile(BATCH_ID_PATTERN)  # as the export names its batches (the export contract's layout)
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


def validate_batch_id(batch_id: str) -> str:
    """A batch id as the export writes it (`20261125T201500Z-3f9a1c2b`), or LATEST."""
    if isinstance(batch_id, str) and (batch_id.upper() == LATEST or BATCH_ID.fullmatch(batch_id)):
        return LATEST if batch_id.upper() == LATEST else batch_id
    raise InvalidIdentifierError(
        f"invalid batch id {batch_id!r}: expected LATEST or UTC time + 8 hex digits, e.g. 20261125T201500Z-3f9a1c2b"
    )
