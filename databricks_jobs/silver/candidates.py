"""Bronze rows of one source -> Silver candidates: the dataset's transform, with the columns every candidate carries
for the fates (silver.build.assign_fates). Silver's build and the sources checker both make candidates here, so what
the checker shows is what a run would do."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.reference.regions import Region
from databricks_jobs.silver.parsing import RawFields
from databricks_jobs.silver.registry import handler_for
from databricks_jobs.sources.model import SourceDefinition


def source_candidates(
    bronze: DataFrame, definition: SourceDefinition, fields: RawFields, regions: tuple[Region, ...]
) -> DataFrame:
    """One candidate per Silver row of these Bronze rows (`fields`: their files' headers), with `reason`, `detail`,
    `source_column` ('' for a long row) and `_sub_id` (the sub-region id when the definition sums sub-region rows,
    never null then; null otherwise: Silver tells summed rows by it). `regions`: the reference regions the transform
    resolves names with."""
    candidates = handler_for(definition.dataset).transform(bronze, definition, fields, regions)
    candidates = candidates.withColumn("source_column", F.coalesce(F.col("source_column"), F.lit("")))
    if definition.sum_over:  # the transform made the ids
        return candidates.withColumn("_sub_id", F.coalesce(F.col("_sub_id"), F.lit("")))
    return candidates.withColumn("_sub_id", F.lit(None).cast("string"))
