"""Hostile CSV lines: each is refused (naming file and line) or quarantined in bounded time, and the other files
and rows of the run go on. The Spark part runs in a child process with its own driver (see hostile_csv_run.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lakehouse import hostile_csv_run as run

pytestmark = pytest.mark.spark

CHILD_TIMEOUT_SECONDS = 900  # a Spark start and two small Delta runs take ~1-2 min on a loaded 2-core machine


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile-csv")
    script = Path(run.__file__)
    done = subprocess.run(
        [sys.executable, str(script), str(work)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        cwd=script.parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_line_over_the_cap_is_refused_naming_file_and_line(outcome):
    status, rows, error = outcome["bronze"]["hostile/line_2mb.csv"]
    assert status == "failed" and rows == 0
    assert error == (
        "hostile/line_2mb.csv: line 3 is longer than 1,048,576 bytes, the source's limit (csv.max_line_bytes); "
        "split the line or raise the limit"
    )


def test_every_other_file_is_ingested_whole(outcome):
    ingested = {path: rows for path, (status, rows, _) in outcome["bronze"].items() if status == "ingested"}
    expected = {f"hostile/{name}": 3 for name in run.HOSTILE if name != "line_2mb.csv"}
    assert ingested == {**expected, "hostile/plain.csv": 2}


def test_hostile_lines_are_quarantined_and_the_rows_around_them_kept(outcome):
    hostile = [name for name in run.HOSTILE if name != "line_2mb.csv"]
    # Each hostile file: line 2 and 4 are the good rows, line 3 the hostile one (header = line 1).
    assert outcome["kept"] == sorted(
        [["hostile/plain.csv", 2], ["hostile/plain.csv", 3]]
        + [[f"hostile/{name}", n] for name in hostile for n in (2, 4)]
    )
    # The hostile line of each file is quarantined as malformed, with its field count.
    quarantined = {(f, n): (reason, detail) for f, n, reason, detail in outcome["quarantine"]}
    assert set(quarantined) == {(f"hostile/{name}", 3) for name in hostile}
    fields = {
        "quoted_20kb.csv": 5_001,
        "one_quote_commas.csv": 1,
        "fields_100k.csv": 100_001,
        "quoted_fields_100k.csv": 100_001,
        "line_1mb.csv": 1,
    }
    for name, count in fields.items():
        reason, detail = quarantined[(f"hostile/{name}", 3)]
        assert reason == "malformed_row", name
        if name == "one_quote_commas.csv":  # an odd number of quotes: part of a quoted field spanning lines
            assert detail.startswith("line has an unbalanced quote"), detail
        else:
            assert detail == f"line has {count} fields, header has 2", (name, detail)


def test_quoted_lines_split_in_time_linear_in_their_length(outcome):
    # The same number of plain lines of the same lengths, split in the same session, is the reference: seconds alone
    # say little on a loaded 2-core machine. The quadratic split took minutes for the 100 KB line alone.
    seconds = outcome["tokenizer_seconds"]
    assert seconds["quoted"] < 10 * seconds["plain"] + 20, seconds


TOKENIZER_LINES = [
    "a,b,c",
    '"a,b",c',
    '"say ""hi""",x',
    '"",,""',
    'a,"b ""x"", y",c',
    '"a\tb",  "spaced"  ,z',
    '"""",x',
    ",,,",
    '"only one field"',
    'x,"",y',
]


def test_the_tokenizer_reads_lines_as_pythons_csv_module(spark):
    """Independent check: well-formed lines (quotes around whole fields) split as Python's csv module splits them."""
    import csv

    from pyspark.sql import functions as F

    from databricks_jobs.bronze.csv_line import field_count, split_fields

    frame = spark.createDataFrame([(line,) for line in TOKENIZER_LINES], "line string")
    rows = frame.select("line", split_fields(F.col("line"), ",").alias("f"), field_count(F.col("line"), ",")).collect()
    for line, fields, count in rows:
        expected = next(csv.reader([line], skipinitialspace=False))
        if line.startswith('"a\tb"'):  # spaces around a quoted field: csv keeps them and the quotes; we drop both
            expected = ["a\tb", "spaced", "z"]
        assert fields == expected, line
        assert count == len(expected), line
