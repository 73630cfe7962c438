"""Bad inputs the first corpus (bad_inputs/) lacks: bytes that are not UTF-8 past the header probe, quoted line
breaks in a field and in the header, gzip, an .xls with duplicated header names, an .xlsx declared as .xls and an
.xls above the size limit. Each file is kept, quarantined with a reason, or refused with a message naming it, and
every file appears in the per-file accounting.

The files are written here, so each problem sits exactly where the test says.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest

from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.lake import read as read_table
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions, parse_definition
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

CSV_SOURCE = {
    "source_id": "more_bad_load",
    "dataset": "demand",
    "files": ["more_bad/*.csv", "more_bad/*.csv.gz"],
    "timestamp": {"column": "Hour Beginning", "format": "yyyy-MM-dd HH:mm", "convention": "hour_beginning"},
    "region": {"from": "fixed", "value": "COAST"},
    "fields": {"demand_mw": {"column": "Load MW", "unit": "MW"}},
}
HEADER = "Hour Beginning,Load MW,Note"
LATIN1_LINE = 4002  # 4000 good data lines after the header, then one with a Latin-1 byte, far past 64 KiB


def _hours(n: int) -> list[str]:
    return [f"2021-{1 + h // 672:02d}-{1 + h // 24 % 28:02d} {h % 24:02d}:00" for h in range(n)]


def _write_csv_files(folder: Path) -> None:
    folder.mkdir(parents=True)
    good = [f"{t},{100 + i}.0,ok" for i, t in enumerate(_hours(4000))]
    latin1 = "\n".join([HEADER, *good]).encode() + "\n2021-07-01 00:00,1.0,caf\xe9\n".encode("latin-1")
    (folder / "late_latin1.csv").write_bytes(latin1)
    (folder / "quoted_newline.csv").write_text(
        f'{HEADER}\n2021-01-01 00:00,100,ok\n2021-01-01 01:00,101,"two\nlines"\n2021-01-01 02:00,102,"a, b"\n'
    )
    (folder / "header_newline.csv").write_text(
        '"Hour\nBeginning",Load MW,Note\n2021-02-01 00:00,200,x\n2021-02-01 01:00,201,y\n'
    )
    (folder / "compressed.csv.gz").write_bytes(
        gzip.compress(f"{HEADER}\n2021-03-01 00:00,300,a\n2021-03-01 01:00,301,b\n2021-03-01 02:00,302,c\n".encode())
    )
    (folder / "gzip_named_csv.csv").write_bytes(gzip.compress(f"{HEADER}\n2021-03-02 00:00,1,a\n".encode()))


def _minimal_xlsx(path: Path) -> None:
    """A one-cell Office Open XML workbook (what Excel writes by default today)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>',
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def _xls_sources(sample_data: Path, raw: Path) -> dict:
    oe417 = load_source_definitions()["doe_oe417"]
    (raw / "xls").mkdir()
    (raw / "xls_big").mkdir()
    # 'Demand Loss (MW)' renamed to 'Date Event Began' (same length, so the BIFF string table stays valid): the
    # header now names one column twice, and a dict of header -> cell would silently drop one of them.
    original = (sample_data / "doe_oe417/2021_Annual_Summary.xls").read_bytes()
    assert original.count(b"Demand Loss (MW)") == 1
    (raw / "xls/duplicate_header.xls").write_bytes(original.replace(b"Demand Loss (MW)", b"Date Event Began"))
    _minimal_xlsx(raw / "xls/really_xlsx.xls")
    shutil.copy(sample_data / "doe_oe417/2021_Annual_Summary.xls", raw / "xls_big/2021_Annual_Summary.xls")
    raw_yaml = {
        "source_id": "xls_events",
        "dataset": "outage_events",
        "format": "xls",
        "xls": {"header_search_rows": 5},
        "files": "xls/*.xls",
        "timestamp": {
            "column": [list(c) for c in oe417.timestamp.columns],
            "format": oe417.timestamp.format,
            "excel_serial_dates": True,
        },
        "region": {"from": "column", "column": list(oe417.region.columns)},
        "fields": {"cause": {"column": ["Event Type"], "type": "string", "required": False}},
    }
    big = {**raw_yaml, "source_id": "xls_big_events", "files": "xls_big/*.xls", "xls": {"max_megabytes": 0.1}}
    return {d["source_id"]: parse_definition(d) for d in (raw_yaml, big)}


@pytest.fixture(scope="module")
def lake(spark, sample_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("more-bad")
    raw = root / "raw"
    _write_csv_files(raw / "more_bad")
    definitions = {"more_bad_load": parse_definition(CSV_SOURCE), **_xls_sources(sample_data, raw)}
    settings = lake_over(raw, root / "lake")
    bronze = ingest_bronze(spark, settings, "mb-b1", definitions=definitions)
    build_silver(spark, settings, "mb-s1", definitions=definitions)
    silver = read_table(spark, settings, "silver_demand__hourly").toPandas()
    quarantine = read_table(spark, settings, "silver__quarantine").toPandas()
    accounting = file_accounting_of(spark, settings).toPandas().set_index("source_file")
    return {
        "errors": {f.path.rsplit("/", 1)[-1]: f.error for f in bronze.failed},
        "ingested": {f.path.rsplit("/", 1)[-1]: f.rows for f in bronze.ingested},
        "silver": silver,
        "quarantine": quarantine,
        "accounting": accounting,
        "raw": raw,
    }


def test_refused_files_name_the_file_and_the_problem(lake):
    errors = lake["errors"]
    assert set(errors) == {
        "late_latin1.csv",
        "gzip_named_csv.csv",
        "duplicate_header.xls",
        "really_xlsx.xls",
        "2021_Annual_Summary.xls",
    }
    assert errors["late_latin1.csv"].startswith(f"more_bad/late_latin1.csv: not UTF-8 text (line {LATIN1_LINE} ")
    assert (lake["raw"] / "more_bad/late_latin1.csv").stat().st_size > 64 * 1024  # past the header probe
    assert errors["gzip_named_csv.csv"] == (
        "more_bad/gzip_named_csv.csv: gzip-compressed content in a file not named *.gz; rename it"
    )
    assert errors["duplicate_header.xls"].startswith(
        "xls/duplicate_header.xls: row 2: wrong header: duplicate column names in ['Month', 'Date Event Began'"
    )
    assert errors["really_xlsx.xls"].startswith(
        "xls/really_xlsx.xls: an .xlsx (Office Open XML / zip) workbook, but the source declares format: xls"
    )
    size = (lake["raw"] / "xls_big/2021_Annual_Summary.xls").stat().st_size
    assert errors["2021_Annual_Summary.xls"] == (
        f"xls_big/2021_Annual_Summary.xls: .xls file of {size:,} bytes is above the source's limit of "
        f"{int(0.1 * 2**20):,} (xls.max_megabytes); export it as CSV or split it"
    )


def test_quoted_line_break_in_a_field_quarantines_both_halves(lake):
    quarantine = lake["quarantine"][lake["quarantine"].source_file == "more_bad/quoted_newline.csv"]
    assert sorted(zip(quarantine.source_row_number, quarantine.reason, strict=True)) == [
        (3, "malformed_row"),
        (4, "malformed_row"),
    ]
    assert quarantine.detail.str.startswith("line has an unbalanced quote").all()
    kept = lake["silver"][lake["silver"].source_file == "more_bad/quoted_newline.csv"]
    assert sorted(zip(kept.source_row_number, kept.demand_mw, strict=True)) == [(2, 100.0), (5, 102.0)]


def test_header_with_a_line_break_and_gzip_are_kept(lake):
    header = lake["silver"][lake["silver"].source_file == "more_bad/header_newline.csv"]
    # The header takes lines 1-2, so the data lines are 3 and 4; 'Hour\nBeginning' matches 'Hour Beginning'.
    assert sorted(zip(header.source_row_number, header.demand_mw, strict=True)) == [(3, 200.0), (4, 201.0)]
    compressed = lake["silver"][lake["silver"].source_file == "more_bad/compressed.csv.gz"]
    assert sorted(zip(compressed.source_row_number, compressed.demand_mw, strict=True)) == [
        (2, 300.0),
        (3, 301.0),
        (4, 302.0),
    ]
    assert lake["ingested"] == {"quoted_newline.csv": 4, "header_newline.csv": 2, "compressed.csv.gz": 3}


def test_every_file_is_in_the_accounting(lake):
    accounting = lake["accounting"]
    for name, rows in lake["ingested"].items():
        row = accounting.loc[f"more_bad/{name}"]
        assert row.rows_in == rows == row.rows_kept + row.rows_quarantined + row.rows_exact_duplicate
    refused = {"more_bad/late_latin1.csv", "more_bad/gzip_named_csv.csv", "xls/duplicate_header.xls"}
    refused |= {"xls/really_xlsx.xls", "xls_big/2021_Annual_Summary.xls"}
    assert refused <= set(accounting.index)
    assert (accounting.loc[sorted(refused), "rows_in"] == 0).all()
