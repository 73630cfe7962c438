# Databricks notebook source
# MAGIC %md
# MAGIC # Reliability with and without Major Event Days
# MAGIC
# MAGIC For the `region` widget (e.g. `SYN_NORTH`, the synthetic utility): yearly SAIDI / SAIFI / CAIDI with and
# MAGIC without Major Event Days, the SAIDI that fell on them, and the IEEE 1366 threshold in force each year
# MAGIC (`med_threshold_saidi_minutes`; provisional when fitted on less than five years); then the Major Event Days.
# MAGIC Widgets: `catalog`, `schema` (`lake_root` locally), `region`.

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import GOLD_RELIABILITY_DAILY, GOLD_RELIABILITY_YEARLY

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, {**explore.LAKE_WIDGETS, "region": "SYN_NORTH"})
settings = explore.lake_settings(values)
spark = get_spark()
days = lake.read_or_empty(spark, settings, GOLD_RELIABILITY_DAILY)

# COMMAND ----------

# MAGIC %md
# MAGIC Per year: the indices with and without Major Event Days, and the threshold in force.

# COMMAND ----------

yearly = lake.read_or_empty(spark, settings, GOLD_RELIABILITY_YEARLY)
display(explore.reliability_by_year(yearly, days, values["region"]))

# COMMAND ----------

# MAGIC %md
# MAGIC The Major Event Days: the day's SAIDI above the threshold in force.

# COMMAND ----------

display(explore.major_event_days(days, values["region"]))
