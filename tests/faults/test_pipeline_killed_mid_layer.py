"""Kill the pipeline (a real `energy-platform pipeline` subprocess) in the middle of each layer, re-run it, and
compare with a clean run: every Bronze, Silver and Gold table and the export equal, nothing lost, nothing doubled.

"In the middle" is observed, not guessed: the kill comes right after the layer's first new Delta commit (or first
exported Parquet file) appears on disk, and the test asserts the layer had not reported completion."""

from __future__ import annotations

import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.faults.conftest import REPO_ROOT, kill_process_tree

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

SOURCES = ("synthetic_interval_load", "synthetic_weather", "synthetic_oms_outages")
LAYER_PREFIX = {"bronze": "bronze_", "silver": "silver_", "gold": "gold_"}
# Columns that legitimately differ between two runs of the same data (which batch or when), not what was computed.
RUN_COLUMNS = {"batch_id", "ingested_at_utc", "_batch_id", "_ingested_at_utc", "processed_at_utc", "built_at_utc"}
# gold__build_inputs fingerprints each lake's own table ids and commit times: equal only within one lake.
LAKE_COLUMNS = {"inputs_fingerprint", "inputs_json"}


def _writes(lake: Path, export: Path, layer: str) -> int:
    """How many commits (or exported files) the layer has made so far: grows as soon as it writes anything."""
    if layer == "export":
        return sum(1 for _ in export.glob("*/gold_*/*.parquet"))
    return sum(1 for _ in lake.glob(f"{LAYER_PREFIX[layer]}*/_delta_log/*.json"))


def _pipeline_command(raw: Path, lake: Path, export: Path) -> list[str]:
    command = [sys.executable, "-m", "local_platform.cli", "pipeline"]
    command += ["--raw-root", str(raw), "--lake-root", str(lake), "--export-root", str(export)]
    for source in SOURCES:
        command += ["--source", source]
    return command


def _kill_during(layer: str, raw: Path, lake: Path, export: Path, timeout_s: float = 600) -> list[str]:
    """Start the pipeline, kill it right after `layer` writes its first new commit; returns its output lines."""
    process = subprocess.Popen(
        _pipeline_command(raw, lake, export),
        cwd=REPO_ROOT,
        env={**os.environ, "SPARK_SHUFFLE_PARTITIONS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    writes_at_start = None
    try:
        while time.monotonic() < deadline:
            while not lines.empty():
                seen.append(lines.get())
                if f"[{layer}] started" in seen[-1]:
                    writes_at_start = _writes(lake, export, layer)
            if process.poll() is not None:
                pytest.fail(f"pipeline ended (rc {process.returncode}) before the kill in {layer}: {''.join(seen)}")
            if writes_at_start is not None and _writes(lake, export, layer) > writes_at_start:
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"no write in {layer} within {timeout_s} s: {''.join(seen)[-3000:]}")
    finally:
        kill_process_tree(process)
    while not lines.empty():
        seen.append(lines.get())
    assert not any(f"[{layer}] done" in line for line in seen), f"{layer} finished before the kill"
    return seen


def _table_rows(spark, path: Path) -> list[tuple]:
    """All rows without the run columns, sorted, as plain tuples: equal lists = same rows, same multiplicities."""
    frame = spark.read.format("delta").load(str(path))
    kept = [c for c in frame.columns if c not in RUN_COLUMNS | LAKE_COLUMNS]
    # Sorted on text with doubles at 6 significant digits, so last-bit differences cannot reorder rows.
    return sorted((tuple(row) for row in frame.select(kept).collect()), key=lambda row: repr(_coarse(row)))


def _lake_tables(root: Path) -> list[str]:
    """The Delta tables stored in a local lake, scratch tables (staging_*, rewritten every run) aside."""
    return sorted(p.name for p in root.iterdir() if (p / "_delta_log").is_dir() and not p.name.startswith("staging_"))


def _coarse(row: tuple) -> tuple:
    return tuple(f"{v:.6g}" if isinstance(v, float) else v for v in row)


def _same_value(a: object, b: object) -> bool:
    """Equal, doubles within 1e-12 relative: sums and means over differently partitioned input (a re-run after a kill
    reads its files in other splits) add in another order and may differ in the last bits, nothing more."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _first_difference(actual: list[tuple], expected: list[tuple]) -> tuple | None:
    for got, want in zip(actual, expected, strict=True):
        if len(got) != len(want) or not all(_same_value(a, b) for a, b in zip(got, want, strict=True)):
            return got, want
    return None


def _latest_manifest(export: Path) -> dict:
    batch = (export / "LATEST").read_text().strip()
    return json.loads((export / batch / "_manifest.json").read_text())


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    from databricks_jobs.synthetic import generate_synthetic_utility

    root = tmp_path_factory.mktemp("raw")
    generate_synthetic_utility(root, seed=7, years=1, regions=2, feeders_per_region=2)
    return root


@pytest.fixture(scope="module")
def clean_and_killed(spark, raw, tmp_path_factory):
    """(clean, faulty) lakes over `raw`: one run straight through; the other killed in each layer, then re-run."""
    from databricks_jobs.jobs.pipeline import run_pipeline
    from databricks_jobs.settings import LakeSettings

    root = tmp_path_factory.mktemp("killed")
    clean = LakeSettings(raw_root=str(raw), lake_root=str(root / "clean_lake"), export_root=str(root / "ce"))
    run_pipeline(clean, source_ids=list(SOURCES), spark=spark, log=lambda _m: None)

    lake, export = root / "lake", root / "export"
    for layer in ("bronze", "silver", "gold", "export"):
        _kill_during(layer, raw, lake, export)
    faulty = LakeSettings(raw_root=str(raw), lake_root=str(lake), export_root=str(export))
    report = run_pipeline(faulty, source_ids=list(SOURCES), spark=spark, log=lambda _m: None)
    assert report.ok
    return clean, faulty


def test_pipeline_killed_in_each_layer_then_rerun_equals_clean_run(spark, clean_and_killed):
    clean, faulty = clean_and_killed
    lake, export = Path(faulty.lake_root), Path(faulty.export_root)

    clean_tables = _lake_tables(Path(clean.lake_root))
    assert _lake_tables(lake) == clean_tables
    assert any(t.startswith("bronze_") for t in clean_tables) and any(t.startswith("gold_") for t in clean_tables)
    for table in clean_tables:
        expected = _table_rows(spark, Path(clean.lake_root) / table)
        actual = _table_rows(spark, lake / table)
        assert len(actual) == len(expected), f"{table}: {len(actual)} rows after kills + re-run, clean {len(expected)}"
        difference = _first_difference(actual, expected)
        assert difference is None, f"{table}: rows differ from the clean run: {difference[0]} != {difference[1]}"

    clean_manifest, manifest = _latest_manifest(Path(clean.export_root)), _latest_manifest(export)
    assert [(t["name"], t["row_count"]) for t in manifest["tables"]] == [
        (t["name"], t["row_count"]) for t in clean_manifest["tables"]
    ]
    # The killed export left its batch folder behind without a manifest: it never looks complete.
    others = [p for p in export.iterdir() if p.is_dir() and p.name != manifest["batch_id"]]
    assert len(others) == 1 and any(others[0].glob("gold_*/*.parquet"))
    assert not (others[0] / "_manifest.json").exists()


def _batch_rows(export: Path, manifest: dict) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Per table, the batch's rows (run columns aside) and deleted keys, sorted."""
    import pandas as pd

    def rows(files: list[dict]) -> list[tuple]:
        frames = [pd.read_parquet(export / manifest["batch_id"] / f["path"]) for f in files]
        kept = [r for frame in frames for r in frame.drop(columns=list(RUN_COLUMNS & set(frame.columns))).itertuples()]
        return sorted((tuple(r[1:]) for r in kept), key=lambda row: repr(_coarse(row)))

    return {t["name"]: (rows(t["files"]), rows(t["deleted_keys"]["files"])) for t in manifest["tables"]}


def test_export_of_an_incremental_batch_killed_then_rerun_equals_clean_run(spark, raw, clean_and_killed):
    """One raw file changes after a full export; the incremental export is killed after its first file, then re-run:
    its batch carries the same changes as a clean run's, on top of the same base."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    clean, faulty = clean_and_killed
    lake, export = Path(faulty.lake_root), Path(faulty.export_root)
    bases = {_latest_manifest(Path(s.export_root))["batch_id"] for s in (clean, faulty)}

    changed = raw / "synthetic_utility" / "interval_load" / "interval_load_SYN_NORTH_2025.csv"
    header, first, *rest = changed.read_text().splitlines(keepends=True)
    changed.write_text(header + ",".join([*first.split(",")[:3], "99999.0\n"]) + "".join(rest))
    run_pipeline(clean, source_ids=list(SOURCES), spark=spark, log=lambda _m: None)
    _kill_during("export", raw, lake, export)
    assert run_pipeline(faulty, source_ids=list(SOURCES), spark=spark, log=lambda _m: None).ok

    clean_manifest, manifest = _latest_manifest(Path(clean.export_root)), _latest_manifest(export)
    assert (manifest["mode"], clean_manifest["mode"]) == ("incremental", "incremental")
    assert {manifest["base_batch_id"], clean_manifest["base_batch_id"]} <= bases
    travelled = {t["name"]: t["row_count"] for t in manifest["tables"]}
    assert 0 < travelled["gold_demand__daily"] < 10, travelled  # the changed hour's local day(s), not the year
    assert _batch_rows(export, manifest) == _batch_rows(Path(clean.export_root), clean_manifest)
