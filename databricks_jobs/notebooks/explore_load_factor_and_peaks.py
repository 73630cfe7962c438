# Databricks notebook source
# MAGIC %md
# MAGIC # Load factor and daily peaks of one region
# MAGIC
# MAGIC For the `region` widget (a region code: `ERCOT`, `COAST`, ...): each day of `gold_demand__daily` with its load
# MAGIC factor recomputed (avg / peak, avg = energy / hours, min <= avg <= peak), and each daily peak against the
# MAGIC highest hour of that local day in `gold_demand__hourly_weather`. Widgets: `catalog`, `schema` (`lake_root`
# MAGIC locally), `region`.

# COMMAND ----------

# MAGIC %run ./deployed_wheel

# COMMAND ----------

# MAGIC %pip install --quiet $wheel

# COMMAND ----------

from databricks_jobs import explore, lake
from databricks_jobs.spark_session import get_spark
from databricks_jobs.tables import GOLD_DEMAND_DAILY, GOLD_DEMAND_HOURLY_WEATHER

# COMMAND ----------

values = explore.create_widgets(dbutils.widgets, {**explore.LAKE_WIDGETS, "region": "ERCOT"})
settings = explore.lake_settings(values)
spark = get_spark()
daily = lake.read_or_empty(spark, settings, GOLD_DEMAND_DAILY)

# COMMAND ----------

# MAGIC %md
# MAGIC Load factor per day, then how many days pass.

# COMMAND ----------

load_factor = explore.load_factor_checks(daily, values["region"])
display(load_factor)

# COMMAND ----------

display(explore.check_summary(load_factor))

# COMMAND ----------

# MAGIC %md
# MAGIC Daily peaks, highest first, against the hourly demand of the same local day; then how many days pass.

# COMMAND ----------

hourly = lake.read_or_empty(spark, settings, GOLD_DEMAND_HOURLY_WEATHER)
peaks = explore.peak_checks(daily, hourly, values["region"])
display(peaks)

# COMMAND ----------

display(explore.check_summary(peaks))
