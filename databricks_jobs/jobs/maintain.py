"""The maintenance task, OPTIMIZE then VACUUM keeping 7 days: `python -m databricks_jobs.jobs.maintain --help`
(Databricks entry point `energy-maintain`)."""

from __future__ import annotations

import sys

from databricks_jobs.jobs.common import run_stage


def main(argv: list[str] | None = None) -> int:
    return run_stage("maintain", argv)


if __name__ == "__main__":
    sys.exit(main())
