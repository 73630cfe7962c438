# Databricks notebook source
# MAGIC %md
# MAGIC # The deployed wheel
# MAGIC
# MAGIC Sets `wheel` to the package's wheel that `databricks bundle deploy` uploaded, for the `%pip install --quiet
# MAGIC $wheel` cell that follows `%run ./deployed_wheel` in every notebook here. Serverless notebook tasks take no task
# MAGIC libraries, so each notebook installs the wheel itself, on serverless and on a job cluster alike. Widget
# MAGIC `wheel_folder`: the bundle's `<root>/artifacts/.internal` (the notebook job passes it; by hand, see
# MAGIC docs/databricks.md).

# COMMAND ----------

import glob
import os

# The bundle puts the notebooks in <bundle root>/files/notebooks and the wheel in <bundle root>/artifacts/.internal.
# Without the widget: relative to this notebook's folder, the working directory on Runtime 14+ job clusters (not
# guaranteed on serverless, hence the widget). Locally the package is installed already and %pip is skipped.
dbutils.widgets.text("wheel_folder", "")
folder = dbutils.widgets.get("wheel_folder") or "../../artifacts/.internal"
deployed = sorted(glob.glob(f"{folder}/energy_reliability_platform-*.whl"), key=os.path.getmtime)
if not deployed and "DATABRICKS_RUNTIME_VERSION" in os.environ:
    raise FileNotFoundError(
        f"no energy_reliability_platform wheel in {folder} (working directory {os.getcwd()}): run "
        "`databricks bundle deploy -t <target>` first, and give the widget wheel_folder (docs/databricks.md)"
    )
wheel = deployed[-1] if deployed else ""
