"""The whole flow once: raw files -> landing (a folder, or S3) -> Bronze -> Silver -> Gold -> export -> stage -> load
procedure -> views. Used by `energy-platform demo` and by the end-to-end tests; every step is logged with its timing.

The embedded default lands and exports to local folders (DESIGN: "S3: a folder (default), or any S3 API endpoint");
with S3 settings the same steps go through an S3 API endpoint, boto3 for landing and Spark's s3a:// for the lake I/O."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from databricks_jobs.settings import PROJECT_ROOT, LakeSettings
from local_platform.s3.client import ensure_bucket, s3_client
from local_platform.s3.landing import download_batch, land_raw_files, read_latest_batch_id
from local_platform.s3.settings import S3Settings

Log = Callable[[str], None]
STEPS = ("land raw files", "lakehouse pipeline", "stage the export", "local warehouse", "load + views")


@dataclass(frozen=True)
class FlowConfig:
    """Where each part runs. s3 None = local folders; else a reachable S3 endpoint. The lake is a local folder."""

    s3: S3Settings | None
    raw_source: Path = PROJECT_ROOT / "sample_data"
    lake_root: str = str(PROJECT_ROOT / ".local" / "lake")
    stage_dir: Path = PROJECT_ROOT / ".local" / "export"
    create_buckets: bool = False
    full_refresh: bool = False


@dataclass
class FlowResult:
    batch_id: str = ""  # the pipeline run's batch; the export's folder when it wrote one
    seconds: dict[str, float] = field(default_factory=dict)
    landed: Any = None
    pipeline: Any = None
    manifest: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)
    views: Any = None

    @property
    def exported(self) -> bool:
        """False: Gold had not changed, no new export batch (the load then checks LATEST)."""
        return self.pipeline is not None and self.pipeline.exported


@contextmanager
def timed_step(number: int, name: str, result: FlowResult, log: Log) -> Iterator[None]:
    log(f"[{number}/{len(STEPS)}] {name} ...")
    started = time.monotonic()
    yield
    result.seconds[name] = round(time.monotonic() - started, 1)
    log(f"[{number}/{len(STEPS)}] {name}: done in {result.seconds[name]} s")


def lake_settings(config: FlowConfig) -> LakeSettings:
    """Raw and export on S3 through s3a://, exactly as on AWS (or local folders); the Delta lake where config says.
    The settings carry how S3 is reached (config.s3.access) to every file access of the jobs."""
    if config.s3 is None:
        return LakeSettings(
            raw_root=str(config.raw_source), lake_root=config.lake_root, export_root=str(config.stage_dir)
        )
    return LakeSettings(
        raw_root=config.s3.raw_root_uri,
        lake_root=config.lake_root,
        export_root=config.s3.export_root_uri,
        s3=config.s3.access,
    )


def spark_for(config: FlowConfig, spark: Any = None) -> Any:
    """The one Spark session, with s3a aimed at config.s3 (set at runtime: the session may predate the endpoint)."""
    from databricks_jobs.spark_session import get_spark, s3a_settings
    from local_platform.s3.spark import configure_s3a

    s3 = config.s3
    spark = spark or get_spark(s3=None if s3 is None else s3.access)
    if s3 is None:
        return spark
    configure_s3a(spark, s3a_settings(s3.access), (s3.landing_bucket, s3.curated_bucket))
    return spark


def run_flow(config: FlowConfig, warehouse: Any, spark: Any = None, log: Log = print) -> FlowResult:
    """Runs every step; `warehouse` is a local_platform.warehouse.control.WarehouseSettings."""

    result = FlowResult()
    if config.s3 is None:
        return _run_on_folders(config, warehouse, spark, result, log)
    client = s3_client(config.s3)
    with timed_step(1, STEPS[0], result, log):
        for bucket in (config.s3.landing_bucket, config.s3.curated_bucket):
            ensure_bucket(client, config.s3, bucket, create=config.create_buckets)
        result.landed = land_raw_files(client, config.s3, config.raw_source)
        log(
            f"    {config.raw_source} -> s3://{config.s3.landing_bucket}/{config.s3.landing_prefix} at "
            f"{config.s3.endpoint_label}: {len(result.landed.uploaded)} uploaded, "
            f"{len(result.landed.unchanged)} unchanged"
        )
    # Spark reaches the bucket through s3a (configured on the session); the jobs' own file access (listing, hashing,
    # the manifest) goes through boto3, aimed at the endpoint by the settings (lake_settings: LakeSettings.s3).
    _run_lakehouse(config, spark_for(config, spark), result, log)
    with timed_step(3, STEPS[2], result, log):
        if result.exported:
            _stage_batch(client, config, result, log)
        else:
            log("    no new export batch: nothing to stage")
    _load_into_warehouse(config, warehouse, result, log)
    return result


def _stage_batch(client: Any, config: FlowConfig, result: FlowResult, log: Log) -> None:
    """Copy the new batch from the curated bucket into the stage folder (its manifest, then LATEST, last)."""
    latest = read_latest_batch_id(client, config.s3)
    if latest != result.batch_id:
        raise RuntimeError(f"s3://{config.s3.curated_bucket}: LATEST is {latest}, expected {result.batch_id}")
    config.stage_dir.mkdir(parents=True, exist_ok=True)
    result.manifest = download_batch(client, config.s3, result.batch_id, config.stage_dir)
    log(f"    s3://{config.s3.curated_bucket}/{config.s3.curated_prefix}/{result.batch_id} -> {config.stage_dir}")


def _run_on_folders(config: FlowConfig, warehouse: Any, spark: Any, result: FlowResult, log: Log) -> FlowResult:
    """The embedded default: raw files read from their folder, the export written straight into the stage folder."""
    with timed_step(1, STEPS[0], result, log):
        log(f"    landing folder {config.raw_source} (no S3 configured: the embedded default)")
    _run_lakehouse(config, spark, result, log)
    with timed_step(3, STEPS[2], result, log):
        # The export step wrote the batch into the stage folder and verified it against its manifest already.
        if result.exported:
            result.manifest = result.pipeline.step("export").result
            log(f"    {config.stage_dir / result.batch_id}: exported and verified by the pipeline's export step")
        else:
            log("    no new export batch: nothing to stage")
    _load_into_warehouse(config, warehouse, result, log)
    return result


def _run_lakehouse(config: FlowConfig, spark: Any, result: FlowResult, log: Log) -> None:
    from databricks_jobs.jobs.pipeline import run_pipeline

    with timed_step(2, STEPS[1], result, log):
        result.pipeline = run_pipeline(
            lake_settings(config), full_refresh=config.full_refresh, log=lambda m: log(f"    {m}"), spark=spark
        )
        result.batch_id = result.pipeline.batch_id


def _load_into_warehouse(config: FlowConfig, warehouse: Any, result: FlowResult, log: Log) -> None:
    from local_platform.warehouse import control, runner

    with timed_step(4, STEPS[3], result, log):
        # the warehouse's DuckDB may read the stage folder (and nothing outside its own folders)
        warehouse = replace(warehouse, data_dirs=(*warehouse.data_dirs, config.stage_dir))
        pid = control.start(warehouse)
        applied = runner.apply(warehouse, str(config.stage_dir))
        log(
            f"    fakesnow server pid {pid} on {warehouse.host}:{warehouse.resolved_port}; "
            f"sql/: {sum(1 for r in applied if not r.skipped_reason)} statements applied"
        )
    with timed_step(5, STEPS[4], result, log):
        # No new batch: LATEST is loaded only if the warehouse has not loaded it yet (else the load says SKIPPED).
        report = runner.load_and_build(warehouse, result.batch_id if result.exported else "LATEST")
        result.load, result.views = report["load"], report["views"]
        load = result.load
        log(f"    load {load['status']}: {load['rows_loaded']} rows from {load['files_loaded']} files")


def prepare_landing_folder(sample_data: Path, landing: Path, synthetic: bool, log: Log = print) -> Path:
    """The raw files of a run in one folder: the bundled real samples plus, if asked, the seeded synthetic utility.

    Copies only files whose bytes differ, and the generator leaves a synthetic file untouched when its bytes would be
    the same: an unchanged landing folder keeps every file's size and modification time, which Bronze recognises
    without reading the file.
    """
    import filecmp
    import shutil

    from databricks_jobs.synthetic import generate_synthetic_utility

    copied = 0
    for source in sorted(p for p in sample_data.rglob("*") if p.is_file()):
        target = landing / source.relative_to(sample_data)
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied += 1
    log(f"    {sample_data} -> {landing}: {copied} files copied")
    if synthetic:
        # Small enough for a laptop demo, with the six years of history the Major Event Day threshold needs.
        summary = generate_synthetic_utility(landing, seed=42, years=6, regions=4, feeders_per_region=5)
        log(
            f"    seeded synthetic utility -> {landing / 'synthetic_utility'}: {summary.interval_rows:,} interval "
            f"rows, {summary.weather_rows:,} weather rows, {summary.oms_rows:,} outage rows; "
            f"{len(summary.rewritten)} files written, {len(summary.unchanged)} unchanged"
        )
    return landing


def loaded_tables(result: FlowResult) -> list[tuple[str, int]]:
    """(curated table, rows in the batch) for the final summary."""
    return [(t["table"], int(t["rows_in_manifest"])) for t in result.load.get("tables", [])]
