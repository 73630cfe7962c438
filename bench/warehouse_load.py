"""The load procedure alone on the local warehouse, on the benchmark's export cut into many files per table: the
cost of the load's statements per file (COPY, checks) next to its rows. Prints the machine's load average beside the
figures: the machine is shared, and a figure means little without it."""

from __future__ import annotations

import argparse
import json
import os
import shutil

from bench.common import BENCH_DIR, timed
from bench.gold_fixture import write_export
from local_platform.s3.server import free_port


class _Counting:
    """The session, counting the statements the load sends (each one a round trip to the warehouse)."""

    def __init__(self, session) -> None:
        self._session, self.statements = session, 0

    def sql(self, query: str, params=None):
        self.statements += 1
        return self._session.sql(query, params=params)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def run(regions: int = 10, years: int = 1, files_per_table: int = 20, last_year: int = 2025) -> dict[str, object]:
    from local_platform.warehouse import apply_sql, control, runner
    from snowpark.energy_snowpark.load_export import load_export

    root = BENCH_DIR / "warehouse_load"
    shutil.rmtree(root, ignore_errors=True)
    export = root / "export"
    manifest = write_export(export, regions, years, last_year, files_per_table)
    files = sum(len(t["files"]) for t in manifest["tables"])
    rows = sum(t["row_count"] for t in manifest["tables"])
    settings = control.WarehouseSettings(state_dir=root / "warehouse", port=free_port())
    control.start(settings)
    try:
        with control.session(settings, network_timeout=3600) as session:
            apply_sql.apply(session, apply_sql.local_variables(str(export), settings.database))
            load_before = os.getloadavg()
            with timed() as load:
                reader = runner.local_stage_reader(session, settings.database)
                counting = _Counting(session)
                report = load_export(counting, runner.stage_name(settings), "LATEST", settings.database, reader)
            load_after = os.getloadavg()
    finally:
        control.stop(settings)
    return {
        "data": f"{regions} regions x {years} years, {len(manifest['tables'])} tables x {files_per_table} files",
        "files": files,
        "rows_in_manifest": rows,
        "rows_loaded": int(report["rows_loaded"]),
        "load_seconds": round(load.seconds, 1),
        "ms_per_file": round(1000 * load.seconds / files, 1),
        "statements": counting.statements,
        "load_average_1_5_15_before": [round(x, 2) for x in load_before],
        "load_average_1_5_15_after": [round(x, 2) for x in load_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.warehouse_load", description=__doc__)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--files-per-table", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(args.regions, args.years, args.files_per_table), indent=2))


if __name__ == "__main__":
    main()
