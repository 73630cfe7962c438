"""Hostile .xls workbooks: a sheet that claims millions of cells is refused before any frame is built, only the sheet
the definition names is parsed, in bounded time and memory (a child process with limits, tests/lakehouse/bounded.py).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from databricks_jobs.storage import S3Access
from tests.lakehouse.bounded import run_bounded
from tests.lakehouse.xls_files import write_workbook

DEFINITION = {
    "source_id": "x_load",
    "dataset": "demand",
    "format": "xls",
    "files": "x/*.xls",
    "timestamp": {"column": "Hour Ending", "format": "MM/dd/yyyy HH:mm"},
    "region": {"from": "fixed", "value": "COAST"},
    "fields": {"demand_mw": {"column": "Load MW"}},
}


def read_in_child(path, definition: dict, seconds: float = 60):
    """read_xls_rows of one file in a child limited to 1 GiB of address space; prints the rows or the refusal."""
    code = textwrap.dedent(f"""
        import json
        from databricks_jobs.bronze.raw_files import RawFileError, raw_file
        from databricks_jobs.bronze.xls_reader import read_xls_rows
        from databricks_jobs.sources import parse_definition
        from databricks_jobs.storage import S3Access
        definition = parse_definition(json.loads({json.dumps(definition)!r}), "x.yml")
        try:
            file = raw_file({str(path.parent)!r}, {path.name!r}, s3=S3Access())
            print(json.dumps(read_xls_rows(None, file, definition)))
        except RawFileError as error:
            print("refused:", error)
    """)
    return run_bounded(code, seconds=seconds, memory_bytes=1 << 30)


def test_a_sheet_claiming_16_million_cells_is_refused_before_a_frame_is_built(tmp_path):
    path = write_workbook(tmp_path / "corner.xls", {"Sheet1": "corner"})
    assert path.stat().st_size < 20_000
    run = read_in_child(path, DEFINITION)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == (
        "refused: corner.xls: sheet 'Sheet1' spans 65,536 rows x 256 columns = 16,777,216 cells, above the source's "
        "limit of 2,000,000 (xls.max_cells); export it as CSV or raise the limit"
    )
    assert run.seconds < 30


def test_only_the_named_sheet_is_read(tmp_path):
    sheets = {f"bomb{i}": "corner" for i in range(40)} | {"data": "plain"}
    path = write_workbook(tmp_path / "many.xls", sheets)
    run = read_in_child(path, {**DEFINITION, "xls": {"sheet": "data"}})
    assert run.returncode == 0, run.stderr[-2000:]
    header, rows = json.loads(run.stdout)
    assert header == ["Hour Ending", "Load MW"]
    assert rows == [[2, '["01/01/2021 01:00", "100"]', 2], [3, '["01/01/2021 02:00", "101"]', 2]]
    assert run.seconds < 30  # forty sheets of 16 million claimed cells each, never parsed


def test_a_missing_sheet_is_named(tmp_path):
    path = write_workbook(tmp_path / "two.xls", {"first": "plain", "second": "plain"})
    run = read_in_child(path, {**DEFINITION, "xls": {"sheet": "load"}})
    assert run.stdout.strip() == "refused: two.xls: no sheet 'load' (xls.sheet); the workbook has ['first', 'second']"


def test_a_file_grown_after_the_listing_is_refused_without_reading_it_whole(tmp_path):
    """The size check uses the listing; the read itself stops one byte past the limit, so a workbook that grew
    between listing and reading is refused, not handed whole to xlrd."""
    from databricks_jobs.bronze.raw_files import RawFileError, raw_file
    from databricks_jobs.bronze.xls_reader import read_xls_rows
    from databricks_jobs.sources import parse_definition

    path = write_workbook(tmp_path / "grows.xls", {"Sheet1": "plain"})
    listed = raw_file(str(tmp_path), "grows.xls", s3=S3Access())
    limit = 1 << 20  # xls.max_megabytes: 1
    with path.open("ab") as handle:
        handle.write(b"\0" * (limit + 1))  # appended after the listing
    definition = parse_definition({**DEFINITION, "xls": {"max_megabytes": 1}}, "x.yml")
    assert listed.size_bytes < limit
    with pytest.raises(RawFileError) as refused:
        read_xls_rows(None, listed, definition)
    assert str(refused.value) == (
        "grows.xls: .xls file of more bytes than listed is above the source's limit of 1,048,576 "
        "(xls.max_megabytes); export it as CSV or split it"
    )
