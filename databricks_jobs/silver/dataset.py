"""What a Silver dataset is: its target table, the transform that types Bronze rows into candidates, and how
duplicates are compared. The datasets themselves are listed in silver/registry.py.

A transform is a pure function `(bronze_rows, definition, fields, regions) -> candidates`, `fields`
(parsing.RawFields) looking fields up by alias in the files' headers, `regions` the reference regions in force: one
candidate row per Silver "row" (for a wide file, one per line and value column), carrying the target table's
columns (except batch_id) plus `reason` (null = usable, else a quarantine reason code), `detail`, `source_column` and
`raw_record` (the raw row as JSON; it may be null on usable rows, and build.py fills it from Bronze for any row it
quarantines later).
build.py does the rest for every dataset alike: quarantine, duplicates, sub-region sums, MERGE, accounting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame

from databricks_jobs.reference.regions import Region
from databricks_jobs.silver.parsing import RawFields
from databricks_jobs.sources.model import SourceDefinition
from databricks_jobs.tables import TableContract

Transform = Callable[[DataFrame, SourceDefinition, RawFields, tuple[Region, ...]], DataFrame]


@dataclass(frozen=True)
class DatasetHandler:
    dataset: str
    target: TableContract  # the Silver table; its primary key is the de-duplication key
    transform: Transform
    # Columns compared to tell an exact duplicate (same values) from a conflicting one; default: all non-lineage.
    value_columns: tuple[str, ...] = ()

    def compared_columns(self) -> tuple[str, ...]:
        if self.value_columns:
            return self.value_columns
        lineage = {"source_file", "source_row_number", "batch_id", *self.target.primary_key}
        return tuple(c for c in self.target.column_names if c not in lineage)
