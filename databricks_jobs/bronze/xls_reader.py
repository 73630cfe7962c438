"""Legacy .xls workbooks into Bronze rows (each row's cells as a JSON array) through xlrd, in Python: files of a few
thousand rows."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

from pyspark.sql import SparkSession

from databricks_jobs.bronze.headers import check_header, number_duplicates
from databricks_jobs.bronze.raw_files import ZIP_MAGIC, RawFile, RawFileError, read_bytes
from databricks_jobs.sources.aliases import find_column, required_aliases
from databricks_jobs.sources.model import SourceDefinition


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold; None for an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xls_rows(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], list[tuple]]:
    """Header and data rows (row number, the cells as a JSON array, field count) of a legacy .xls sheet.

    The header is the first row within `xls.header_search_rows` that holds every required column (by alias).
    """
    import pandas as pd

    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    if file.size_bytes > definition.xls_max_bytes:
        # xlrd holds the whole workbook in memory (several times its size): refuse before reading a byte.
        raise RawFileError(
            f"{file.relative_path}: .xls file of {file.size_bytes:,} bytes is above the source's limit of "
            f"{definition.xls_max_bytes:,} (xls.max_megabytes); export it as CSV or split it"
        )
    if b"".join(read_bytes(file.uri, len(ZIP_MAGIC))) == ZIP_MAGIC:
        raise RawFileError(
            f"{file.relative_path}: an .xlsx (Office Open XML / zip) workbook, but the source declares format: xls "
            "(legacy BIFF); save it as .xls or export it as CSV"
        )
    content = b"".join(read_bytes(file.uri))
    try:
        sheet = pd.read_excel(io.BytesIO(content), header=None, dtype=object, engine="xlrd")
    except Exception as error:  # noqa: BLE001 - xlrd raises many types for a corrupt workbook
        raise RawFileError(f"{file.relative_path}: not a readable .xls workbook ({error})") from None
    cells = [[_cell_text(v) for v in row] for row in sheet.itertuples(index=False)]
    header_index = None
    for index, row in enumerate(cells[: definition.header_row_max + 1]):
        header = [c.strip() if c else f"column_{i + 1}" for i, c in enumerate(row)]
        if all(find_column(header, aliases) for _, aliases in required_aliases(definition)):
            header_index = index
            break
    if header_index is None:
        first = cells[0] if cells else []
        check_header(definition, [c or "" for c in first], file.relative_path)
        raise RawFileError(f"{file.relative_path}: wrong header: no header row in the first rows")
    header = number_duplicates(header, definition)
    check_header(definition, header, f"{file.relative_path}: row {header_index + 1}")  # duplicate names too
    rows = []
    for index in range(header_index + 1, len(cells)):
        values = cells[index]
        if all(v is None for v in values):
            continue  # an empty spreadsheet row holds nothing to lose
        rows.append((index + 1, json.dumps(values), len(header)))
    return header, rows
