# Databricks notebook source
# MAGIC %md
# MAGIC # Gold reconciled against Silver
# MAGIC
# MAGIC Over all days `gold_demand__daily` holds the hours and MWh of `silver_demand__hourly` per source and region,
# MAGIC and `gold_quality__quarantine_summary` counts the rows of `silver__quarantine` per source, file and reason;
# MAGIC each row ends in `is_reconciled`. Widgets: `catalog`, `schema` (`lake_root` locally).

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import (
    GOLD_DEMAND_DAILY,
    GOLD_QUALITY_QUARANTINE_SUMMARY,
    SILVER_DEMAND_HOURLY,
    SILVER_QUARANTINE,
)

# COMMAND ----------

settings = explore.lake_settings(explore.create_widgets(dbutils.widgets, explore.LAKE_WIDGETS))
spark = get_spark()
read = lambda contract: lake.read_or_empty(spark, settings, contract)  # noqa: E731

# COMMAND ----------

# MAGIC %md
# MAGIC Hours and energy per source and region.

# COMMAND ----------

display(explore.demand_reconciliation(read(SILVER_DEMAND_HOURLY), read(GOLD_DEMAND_DAILY)))

# COMMAND ----------

# MAGIC %md
# MAGIC Quarantined rows per source, file and reason.

# COMMAND ----------

display(explore.quarantine_reconciliation(read(SILVER_QUARANTINE), read(GOLD_QUALITY_QUARANTINE_SUMMARY)))
