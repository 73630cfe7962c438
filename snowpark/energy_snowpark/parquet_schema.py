"""Each export file's Parquet schema against the contract, before COPY.

COPY with MATCH_BY_COLUMN_NAME is lenient: a missing column loads as NULL, an extra one is ignored, and values are
cast to the table's types (23.7 into a NUMBER(10, 0) column lands as 24, a TIMESTAMP into a DATE loses its time).
So every file must have exactly the contract's column names, each with a type of the contract's kind; the message
names the file, the column, what the contract expects and what the file has.

Types are compared as Snowflake names them (INFER_SCHEMA's TYPE column): TEXT, NUMBER(p, s), REAL, BOOLEAN, DATE,
TIMESTAMP_NTZ / TIMESTAMP_LTZ. In Snowflake the schema comes from INFER_SCHEMA on the stage (stage_schema_reader);
locally from each file's Parquet footer (local_platform's reader maps Arrow types to the same names).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .load_manifest import LoadError

# (folder relative to the stage, e.g. "<batch>/<table>", file names) -> {file name: {column: Snowflake type}}
SchemaReader = Callable[[str, list[str]], dict[str, dict[str, str]]]

_INTEGER = re.compile(r"NUMBER\([0-9]+,0\)")  # compared with blanks removed
# Contract (Spark) type -> what a file may hold for it. Integers: any NUMBER(p, 0) (Parquet INT32 / INT64 come back
# with different precisions); a NUMBER with a scale is a decimal, not an integer, and is refused.
ACCEPTED: dict[str, Callable[[str], bool]] = {
    "string": lambda found: found in {"TEXT", "VARCHAR", "STRING"},
    "double": lambda found: found in {"REAL", "FLOAT", "DOUBLE"},
    "int": lambda found: bool(_INTEGER.fullmatch(found)),
    "bigint": lambda found: bool(_INTEGER.fullmatch(found)),
    "boolean": lambda found: found == "BOOLEAN",
    "date": lambda found: found == "DATE",
    # NTZ only: a timezone-aware Parquet timestamp loads as TIMESTAMP_LTZ and shifts with the session's time zone.
    "timestamp": lambda found: found == "TIMESTAMP_NTZ",
    "timestamp_ntz": lambda found: found == "TIMESTAMP_NTZ",
}
EXPECTED_NAMES = {
    "string": "TEXT",
    "double": "REAL",
    "int": "NUMBER(p, 0)",
    "bigint": "NUMBER(p, 0)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_NTZ",
    "timestamp_ntz": "TIMESTAMP_NTZ",
}


class SchemaMismatchError(LoadError):
    """A file's columns differ from the contract; the message names file, column, expected and found."""


def schema_problems(file_name: str, found: dict[str, str], expected: dict[str, str]) -> list[str]:
    """What differs between one file's columns (`found`: name -> Snowflake type) and the contract's (`expected`:
    name -> Spark type). Names are compared exactly: COPY matches them case-insensitively, so two spellings of one
    name, or the contract's name in another case, would load silently."""
    problems = []
    for column in sorted(set(expected) - set(found)):
        problems.append(f"file {file_name}: column {column}: expected {EXPECTED_NAMES[expected[column]]}, missing")
    for column in sorted(set(found) - set(expected)):
        problems.append(f"file {file_name}: column {column}: not in the contract (found {found[column]})")
    for column in sorted(set(found) & set(expected)):
        if not ACCEPTED[expected[column]]("".join(found[column].upper().split())):
            problems.append(
                f"file {file_name}: column {column}: expected {EXPECTED_NAMES[expected[column]]}, found {found[column]}"
            )
    return problems


def check_schemas(
    read: SchemaReader, batch_id: str, table_name: str, folder: str, file_names: list[str], expected: dict[str, str]
) -> None:
    """Every file of `folder` (relative to the batch) has the contract's columns; SchemaMismatchError otherwise."""
    found = read(f"{batch_id}/{folder}", file_names)
    problems = []
    for file_name in file_names:
        if file_name not in found:
            problems.append(f"file {file_name}: no schema could be read (not on the stage, or not Parquet)")
            continue
        problems.extend(schema_problems(file_name, found[file_name], expected))
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise SchemaMismatchError(f"table {table_name}: the export's files differ from the contract: {shown}")


def stage_schema_reader(session: Any, stage: str, file_format: str) -> SchemaReader:
    """Snowflake: INFER_SCHEMA on the stage, once per folder (at most 1,000 FILES per call). INFER_SCHEMA merges the
    files' schemas: a column's FILENAMES lists the files that have it, so a file missing from it lacks the column,
    and files that disagree on a type get a merged type the contract check refuses."""

    def read(folder: str, file_names: list[str]) -> dict[str, dict[str, str]]:
        result: dict[str, dict[str, str]] = {}
        for start in range(0, len(file_names), 1000):
            chunk = file_names[start : start + 1000]
            names = ", ".join(f"'{name}'" for name in chunk)
            rows = session.sql(
                f"SELECT COLUMN_NAME, TYPE, FILENAMES FROM TABLE(INFER_SCHEMA(LOCATION => '@{stage}/{folder}/', "
                f"FILE_FORMAT => '{file_format}', FILES => ({names})))"
            ).collect()
            for name in chunk:
                result[name] = {}
            for column, column_type, file_list in rows:
                for path in str(file_list).split(","):
                    name = path.strip().rsplit("/", 1)[-1]
                    if name in result:
                        result[name][str(column)] = str(column_type)
        return result

    return read
