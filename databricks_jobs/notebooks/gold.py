# Databricks notebook source
# MAGIC %md
# MAGIC # Gold: Silver -> the Gold tables
# MAGIC
# MAGIC The `gold` stage as the wheel task `energy-gold` runs it: only the keys that new Silver rows touch, unless the
# MAGIC `full_refresh` widget is `true`.

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore
from databricks_jobs.spark_session import get_spark

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, explore.STAGE_WIDGETS)
spark = get_spark()

# COMMAND ----------

stage = explore.run_stage("gold", values, spark)
display(explore.step_frame(spark, stage.report))

# COMMAND ----------

# MAGIC %md
# MAGIC Per Gold table: how it was written (merge, overwrite, or skipped: no new Silver batch) and how many rows.

# COMMAND ----------

display(explore.gold_results_frame(spark, stage.report.step("gold").result))
