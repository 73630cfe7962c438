"""Small .xls workbooks written with xlwt for the hostile-input tests: a plain sheet, and sheets that claim far more
cells than they hold."""

from __future__ import annotations

from pathlib import Path

HEADER = ("Hour Ending", "Load MW")
ROWS = (("01/01/2021 01:00", 100), ("01/01/2021 02:00", 101))


def plain_sheet(sheet, rows=ROWS) -> None:
    for column, name in enumerate(HEADER):
        sheet.write(0, column, name)
    for index, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            sheet.write(index, column, value)


def write_workbook(path: Path, sheets: dict[str, str]) -> Path:
    """sheets: name -> 'plain' (header and two rows) or 'corner' (the header, and one cell at row 65,536, column
    256: BIFF8's last cell, a sheet of 16,777,216 cells in a file of a few KB)."""
    import xlwt

    book = xlwt.Workbook()
    for name, kind in sheets.items():
        sheet = book.add_sheet(name)
        plain_sheet(sheet)
        if kind == "corner":
            sheet.write(65_535, 255, "x")
    book.save(str(path))
    return path
