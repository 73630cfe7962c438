"""Legacy .xls workbooks into Bronze rows (each row's cells as a JSON array) through xlrd, in Python: files of a few
thousand rows."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

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


def _sheet(book: Any, definition: SourceDefinition, name: str) -> Any:
    """The sheet the definition names (by name or 0-based index), loaded alone (the workbook is opened on_demand)."""
    import xlrd

    wanted = definition.xls_sheet
    try:
        return book.sheet_by_name(wanted) if isinstance(wanted, str) else book.sheet_by_index(wanted)
    except (xlrd.XLRDError, IndexError):
        raise RawFileError(
            f"{name}: no sheet {wanted!r} (xls.sheet); the workbook has {book.sheet_names()[:20]}"
        ) from None


def _cell_value(value: object, kind: int, datemode: int) -> object:
    """A cell as pandas' xlrd reader gives it: dates as datetime (a time alone on the epoch day), error cells and empty
    text as None, whole numbers as int."""
    import xlrd

    if kind == xlrd.XL_CELL_DATE:
        try:
            stamp = xlrd.xldate.xldate_as_datetime(value, datemode)
        except (OverflowError, ValueError):
            return value
        if stamp.timetuple()[0:3] in ((1899, 12, 31), (1904, 1, 1)):
            return stamp.time()
        return stamp
    if kind in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or value == "":
        return None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    return value


def read_sheet_cells(content: bytes, definition: SourceDefinition, name: str) -> list[list[str | None]]:
    """The cells of the definition's sheet as text, row by row (rows ragged: a row ends at its last cell).

    Bounded by the file, not by what it claims: the workbook is opened on_demand (other sheets are never parsed),
    rows are ragged (one cell at row 65,536, column 256 costs 65,536 empty rows, not 16 million padded cells), and a
    sheet whose rows x columns exceed `xls.max_cells` is refused before any row is converted.
    """
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=content, on_demand=True, ragged_rows=True)
    except Exception as error:  # noqa: BLE001 - xlrd raises many types for a corrupt workbook
        raise RawFileError(f"{name}: not a readable .xls workbook ({error})") from None
    try:
        try:
            sheet = _sheet(book, definition, name)
        except RawFileError:
            raise
        except Exception as error:  # noqa: BLE001 - a corrupt sheet stream
            raise RawFileError(f"{name}: not a readable .xls workbook ({error})") from None
        columns = max((sheet.row_len(i) for i in range(sheet.nrows)), default=0)
        if sheet.nrows * columns > definition.xls_max_cells:
            raise RawFileError(
                f"{name}: sheet {sheet.name!r} spans {sheet.nrows:,} rows x {columns:,} columns = "
                f"{sheet.nrows * columns:,} cells, above the source's limit of {definition.xls_max_cells:,} "
                "(xls.max_cells); export it as CSV or raise the limit"
            )
        return [
            [
                _cell_text(_cell_value(v, t, book.datemode))
                for v, t in zip(sheet.row_values(i), sheet.row_types(i), strict=True)
            ]
            for i in range(sheet.nrows)
        ]
    finally:
        book.release_resources()


def read_xls_rows(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], list[tuple]]:
    """Header and data rows (row number, the cells as a JSON array, field count) of a legacy .xls sheet.

    The header is the first row within `xls.header_search_rows` that holds every required column (by alias).
    """
    if file.size_bytes == 0:
        raise RawFileError(f"{file.relative_path}: empty file (0 bytes)")
    # xlrd holds the whole workbook in memory (several times its size): refuse before reading a byte, and read at most
    # one byte over the limit (a file that grew after the listing is refused, not held whole).
    limit = definition.xls_max_bytes
    content = b"" if file.size_bytes > limit else b"".join(read_bytes(file, limit + 1))
    if file.size_bytes > limit or len(content) > limit:
        size = f"{file.size_bytes:,} bytes" if file.size_bytes > limit else "more bytes than listed"
        raise RawFileError(
            f"{file.relative_path}: .xls file of {size} is above the source's limit of {limit:,} "
            "(xls.max_megabytes); export it as CSV or split it"
        )
    if content.startswith(ZIP_MAGIC):
        raise RawFileError(
            f"{file.relative_path}: an .xlsx (Office Open XML / zip) workbook, but the source declares format: xls "
            "(legacy BIFF); save it as .xls or export it as CSV"
        )
    cells = read_sheet_cells(content, definition, file.relative_path)
    width = max((len(row) for row in cells), default=0)
    cells = [row + [None] * (width - len(row)) for row in cells]  # within xls.max_cells
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
