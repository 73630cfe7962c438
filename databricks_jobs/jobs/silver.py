"""The silver task: `python -m databricks_jobs.jobs.silver --help` (Databricks entry point `energy-silver`)."""

from __future__ import annotations

import sys

from databricks_jobs.jobs.common import run_stage


def main(argv: list[str] | None = None) -> int:
    return run_stage("silver", argv)


if __name__ == "__main__":
    sys.exit(main())
