"""Quarantine reasons are declared once (tables.QuarantineReason): the code that quarantines uses the members, and the
documentation's table is the one rendered from the declaration."""

from __future__ import annotations

import re
from pathlib import Path

from databricks_jobs.tables import QUARANTINE_REASONS, QuarantineReason, quarantine_reasons_markdown

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_IN = ROOT / "docs" / "lakehouse.md"
BLOCK = re.compile(r"<!-- quarantine reasons: begin -->\n(.*?)<!-- quarantine reasons: end -->", re.S)
# Where rows are quarantined (or, for the synthetic utility, where the reason Silver must give is stated).
QUARANTINING_CODE = ("databricks_jobs/silver", "databricks_jobs/synthetic")


def test_every_reason_has_a_meaning():
    assert list(QUARANTINE_REASONS) == list(QuarantineReason)
    assert all(datasets and meaning for datasets, meaning in QUARANTINE_REASONS.values())


def test_the_documented_table_is_the_declared_one():
    (documented,) = BLOCK.findall(DOCUMENTED_IN.read_text())
    assert documented == quarantine_reasons_markdown()
    items = [line for line in documented.splitlines() if line.startswith("- `")]
    assert [item.split("`")[1] for item in items] == [reason.value for reason in QuarantineReason]
    # Wrapped, not cut: every meaning is there word for word.
    assert all(" ".join(meaning.split()) in " ".join(documented.split()) for _, meaning in QUARANTINE_REASONS.values())


def test_no_reason_is_spelled_out_in_the_quarantining_code():
    """A reason written as a string literal would escape the declaration (and the documentation)."""
    literal = re.compile("|".join(rf"[\"']{re.escape(reason.value)}[\"']" for reason in QuarantineReason))
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in QUARANTINING_CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line)
    ]
    assert found == []
