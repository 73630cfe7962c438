"""Silver dispatch: a definition's `dataset` names the transform that types its Bronze rows.

A transform is a pure function `(bronze_rows, definition, fields) -> candidates`, `fields` (parsing.RawFields)
looking fields up by alias in the files' headers: one candidate row per Silver "row" (for a wide file, one per line
and value column), carrying the target table's columns (except batch_id) plus `reason` (null = usable, else a
quarantine reason code), `detail`, `source_column` and `raw_record` (the raw row as JSON; it may be null on usable
rows, and build.py fills it from Bronze for any row it quarantines later).
build.py does the rest for every dataset alike: quarantine, duplicates, sub-region sums, MERGE, accounting.

The outage engineer registers `outage_events` from silver/outages.py:

    from databricks_jobs.silver.registry import DatasetHandler, register_dataset
    register_dataset(DatasetHandler("outage_events", SILVER_OUTAGE_EVENTS, transform_outages))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame

from databricks_jobs.silver.parsing import RawFields
from databricks_jobs.sources.model import SourceDefinition
from databricks_jobs.tables import TableContract

Transform = Callable[[DataFrame, SourceDefinition, RawFields], DataFrame]

# Columns every candidate row carries besides the target table's own columns.
CANDIDATE_EXTRA_COLUMNS = ("reason", "detail", "source_column", "raw_record")


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


DATASET_TRANSFORMS: dict[str, DatasetHandler] = {}


def register_dataset(handler: DatasetHandler) -> None:
    DATASET_TRANSFORMS[handler.dataset] = handler


def handler_for(dataset: str) -> DatasetHandler:
    """The registered handler; imports the built-in transforms (and outages, when present) on first use."""
    import importlib

    importlib.import_module("databricks_jobs.silver.transforms")
    if dataset not in DATASET_TRANSFORMS:
        try:
            importlib.import_module("databricks_jobs.silver.outages")
        except ModuleNotFoundError as error:
            if error.name != "databricks_jobs.silver.outages":
                raise
    if dataset not in DATASET_TRANSFORMS:
        raise KeyError(f"no Silver transform registered for dataset {dataset!r}; known: {sorted(DATASET_TRANSFORMS)}")
    return DATASET_TRANSFORMS[dataset]
