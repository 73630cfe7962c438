# Databricks notebook source
# MAGIC %md
# MAGIC # Export: Gold -> Parquet + `_manifest.json` + `LATEST`
# MAGIC
# MAGIC The `export` stage as the wheel task `energy-export` runs it; it checks the published batch against storage
# MAGIC (`verify_export`, row counts as the write read them back) before it returns.

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

stage = explore.run_stage("export", values, spark)
display(explore.step_frame(spark, stage.report))

# COMMAND ----------

# MAGIC %md
# MAGIC The manifest of this batch: tables, row counts, files.

# COMMAND ----------

display(explore.manifest_frame(spark, stage.report.step("export").result))
