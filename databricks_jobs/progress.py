"""The pipeline's progress lines: one per source, dataset or table as it finishes, with its rows and elapsed time.

One shape for every layer, so a long stage reads as a list of finished pieces:
    bronze ercot_native_load: 6 files ingested, 52,608 rows, 3.1 s
    silver ercot_native_load (demand): 6 files, 52,608 rows in -> 52,596 kept, 12 quarantined, 9.4 s
    gold gold_demand__daily: merge, 19,365 rows written, 7.6 s
Only formatting lives here; the layers call it through the `log` callable they are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from databricks_jobs.tables import FILE_FAILED, FILE_INGESTED


class BronzeFile(Protocol):
    status: str
    rows: int


class SilverFile(Protocol):
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_exact_duplicate: int


def counted(number: int, unit: str) -> str:
    """'1 file', '6 files', '52,608 rows'."""
    return f"{number:,} {unit}{'' if number == 1 else 's'}"


def progress_line(layer: str, name: str, facts: Iterable[str], seconds: float) -> str:
    """'  bronze ercot_native_load: <fact>, <fact>, 3.1 s' (indented under the stage's '[bronze] started')."""
    return f"  {layer} {name}: {', '.join([*facts, f'{seconds:.1f} s'])}"


def bronze_source_line(source_id: str, files: Sequence[BronzeFile], seconds: float) -> str:
    """One Bronze source: its files by status (ingested now, already in Bronze, failed), and the rows ingested."""
    ingested = [f for f in files if f.status == FILE_INGESTED]
    failed = sum(1 for f in files if f.status == FILE_FAILED)
    known = len(files) - len(ingested) - failed
    words = ((len(ingested), "ingested"), (known, "already in Bronze"), (failed, "failed"))
    facts = [f"{counted(number, 'file')} {word}" for number, word in words if number]
    facts.append(counted(sum(f.rows for f in ingested), "row"))
    return progress_line("bronze", source_id, facts, seconds)


def silver_source_line(source_id: str, dataset: str, files: Sequence[SilverFile], seconds: float) -> str:
    """One Silver source: its new Bronze files and their row accounting (rows in = kept + quarantined + duplicates)."""
    if not files:
        return progress_line("silver", f"{source_id} ({dataset})", ["no new Bronze files"], seconds)
    rows_in = sum(f.rows_in for f in files)
    accounting = f"{counted(rows_in, 'row')} in -> {sum(f.rows_kept for f in files):,} kept"
    facts = [counted(len(files), "file"), accounting, f"{sum(f.rows_quarantined for f in files):,} quarantined"]
    duplicates = sum(f.rows_exact_duplicate for f in files)
    if duplicates:
        facts.append(counted(duplicates, "exact duplicate"))
    return progress_line("silver", f"{source_id} ({dataset})", facts, seconds)


def gold_table_line(table: str, result: Mapping[str, Any]) -> str:
    """One Gold table from build_gold's result: the operation, rows written (and deleted), its seconds."""
    facts = [str(result.get("operation", "?")), f"{counted(int(result.get('rows_written', 0)), 'row')} written"]
    if result.get("rows_deleted"):
        facts.append(f"{int(result['rows_deleted']):,} deleted")
    return progress_line("gold", table, facts, float(result.get("seconds", 0.0)))


def quiet(_: str) -> None:
    """A pipeline log that prints nothing (benchmarks, tests, the upgrade command's lake step)."""
