# Databricks notebook source
# MAGIC %md
# MAGIC # Row accounting and quarantine, by source and reason
# MAGIC
# MAGIC Where every raw row went (kept, quarantined with a reason, exact duplicate) per source; the quarantine by
# MAGIC source and reason; each rejected row with the raw line it came from. Widgets: `catalog`, `schema` (`lake_root`
# MAGIC locally), `source` and `reason` (empty = all) to narrow the rejected rows.

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import GOLD_QUALITY_FILE_ACCOUNTING as ACCOUNTING
from databricks_jobs.tables import SILVER_PROCESSED_FILES, SILVER_QUARANTINE

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, {**explore.LAKE_WIDGETS, "source": "", "reason": ""})
settings = explore.lake_settings(values)
spark = get_spark()

# COMMAND ----------

# MAGIC %md
# MAGIC Rows in, kept, quarantined and duplicates per source (`gold_quality__file_accounting`), and whether they add
# MAGIC up.

# COMMAND ----------

display(explore.row_accounting_by_source(lake.read_or_empty(spark, settings, ACCOUNTING)))

# COMMAND ----------

# MAGIC %md
# MAGIC The quarantine by source and reason.

# COMMAND ----------

quarantine = lake.read_or_empty(spark, settings, SILVER_QUARANTINE)
display(explore.quarantine_by_source_and_reason(quarantine))

# COMMAND ----------

# MAGIC %md
# MAGIC Each rejected row: reason, detail, the raw line as it came (the file version Silver processed), the parsed
# MAGIC record.

# COMMAND ----------

processed = lake.read_or_empty(spark, settings, SILVER_PROCESSED_FILES)
raw_rows = explore.bronze_rows(spark, settings)
display(explore.rejected_rows(quarantine, processed, raw_rows, values["source"], values["reason"]))
