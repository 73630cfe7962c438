# Databricks notebook source
# MAGIC %md
# MAGIC # Silver: Bronze -> typed, UTC-aligned Silver and `silver__quarantine`
# MAGIC
# MAGIC The `silver` stage as the wheel task `energy-silver` runs it, for the files whose newest Bronze version Silver
# MAGIC has not processed yet.

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import SILVER_PROCESSED_FILES, SILVER_QUARANTINE

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, explore.STAGE_WIDGETS)
spark = get_spark()

# COMMAND ----------

stage = explore.run_stage("silver", values, spark)
display(explore.step_frame(spark, stage.report))

# COMMAND ----------

# MAGIC %md
# MAGIC Row accounting of the files this batch processed: `rows_in = rows_kept + rows_quarantined +
# MAGIC rows_exact_duplicate`.

# COMMAND ----------

processed = lake.read_or_empty(spark, stage.settings, SILVER_PROCESSED_FILES)
display(explore.of_batch(processed, stage.batch_id))

# COMMAND ----------

# MAGIC %md
# MAGIC What this batch quarantined, by source and reason (each row with its raw line:
# MAGIC `explore_row_accounting_and_quarantine`).

# COMMAND ----------

quarantined = explore.of_batch(lake.read_or_empty(spark, stage.settings, SILVER_QUARANTINE), stage.batch_id)
display(explore.quarantine_by_source_and_reason(quarantined))
