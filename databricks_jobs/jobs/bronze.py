"""The bronze task: `python -m databricks_jobs.jobs.bronze --help` (Databricks entry point `energy-bronze`)."""

from __future__ import annotations

import sys

from databricks_jobs.jobs.common import run_stage


def main(argv: list[str] | None = None) -> int:
    return run_stage("bronze", argv)


if __name__ == "__main__":
    sys.exit(main())
