"""Every CSV download of the app is safe to open in a spreadsheet: no cell runs as a formula."""

from __future__ import annotations

import ast
import csv
import io
from datetime import date
from pathlib import Path

import pandas as pd
from energy_app.formatting import csv_bytes

APP = Path(__file__).resolve().parents[2] / "streamlit_in_snowflake"


def test_cells_a_spreadsheet_would_run_are_neutralised_and_the_rest_kept():
    causes = ['=HYPERLINK("http://attacker.example","Click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]
    frame = pd.DataFrame(
        {
            "CAUSE": [*causes, "storm", None],
            "DEVICE": ["=1+1", "fuse", "fuse", "fuse", "fuse", "fuse", "fuse", "fuse"],
            "NET_DEMAND_MW": [-5.0, 1.5, 0.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "DATE_LOCAL": [date(2021, 2, 15)] * 8,
        }
    )
    rows = list(csv.DictReader(io.StringIO(csv_bytes(frame).decode("utf-8"), newline="")))
    assert len(rows) == 8
    assert [r["CAUSE"] for r in rows] == ["'" + c for c in causes] + ["storm", ""]
    assert rows[0]["DEVICE"] == "'=1+1" and rows[1]["DEVICE"] == "fuse"
    assert rows[0]["NET_DEMAND_MW"] == "-5.0" and rows[0]["DATE_LOCAL"] == "2021-02-15"
    assert frame["CAUSE"][0].startswith("=")  # the table shown on screen is not changed


def test_every_download_in_the_app_goes_through_csv_bytes():
    calls = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "download_button":
                calls.append((path.name, ast.unparse(node.args[1])))
    assert calls == [("formatting.py", "csv_bytes(frame)")]
