# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze: raw files -> `bronze_<source>__raw_rows`
# MAGIC
# MAGIC The `bronze` stage as the wheel task `energy-bronze` runs it. Widgets: see `explore.STAGE_WIDGETS` (empty =
# MAGIC the task's default; `sources` is a comma-separated list of source ids).

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import BRONZE_INGESTED_FILES

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, explore.STAGE_WIDGETS)
spark = get_spark()

# COMMAND ----------

stage = explore.run_stage("bronze", values, spark)
display(explore.step_frame(spark, stage.report))

# COMMAND ----------

# MAGIC %md
# MAGIC Files this batch logged in `bronze__ingested_files` (path, sha256, rows; a failed file with its error). A file
# MAGIC already ingested with the same hash is skipped and not logged again.

# COMMAND ----------

display(explore.of_batch(lake.read_or_empty(spark, stage.settings, BRONZE_INGESTED_FILES), stage.batch_id))
