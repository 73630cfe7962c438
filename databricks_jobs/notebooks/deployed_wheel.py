# Databricks notebook source
# MAGIC %md
# MAGIC # The deployed wheel
# MAGIC
# MAGIC Sets `wheel` to the package's wheel that `databricks bundle deploy` uploaded, for the `%pip install --quiet
# MAGIC $wheel` cell that follows `%run ./deployed_wheel` in every notebook here. Serverless notebook tasks take no task
# MAGIC libraries, so each notebook installs the wheel itself, on serverless and on a job cluster alike.

# COMMAND ----------

import glob
import os

# The bundle puts the notebooks in <bundle root>/files/notebooks and the wheel in <bundle root>/artifacts/.internal,
# and a notebook's working directory is its own folder. Locally the package is installed already and %pip is skipped.
deployed = sorted(glob.glob("../../artifacts/.internal/energy_reliability_platform-*.whl"), key=os.path.getmtime)
if not deployed and "DATABRICKS_RUNTIME_VERSION" in os.environ:
    raise FileNotFoundError(
        f"no energy_reliability_platform wheel in {os.getcwd()}/../../artifacts/.internal: "
        "run `databricks bundle deploy -t <target>` first (docs/databricks.md)"
    )
wheel = deployed[-1] if deployed else ""
