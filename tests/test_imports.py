"""Every module imports without a running Spark (job entry points, the CLI and Snowflake handlers load before Spark)."""

from __future__ import annotations

import subprocess
import sys

PACKAGES = ("databricks_jobs", "local_platform")

IMPORT_ALL = """
import importlib, pkgutil, sys
failed = []
for package_name in sys.argv[1:]:
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, package_name + "."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # report every failure, not just the first
            failed.append(f"{module.name}: {type(error).__name__}: {error}")
        else:
            print("imported", module.name)
from pyspark import SparkContext
assert SparkContext._active_spark_context is None, "importing a module started Spark"
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_without_spark():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *PACKAGES], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("imported ") > 20
