"""Run the Snowpark handlers against the local warehouse: apply sql/, load the export, build the views.

Two local differences from Snowflake, both explicit arguments of the handlers rather than forks of their code:
- fakesnow cannot SELECT from a stage, so the manifest and LATEST are read from the stage's file:// URL;
- DuckDB refuses a database.schema prefix on a Python UDF, so the views call LOAD_FACTOR unqualified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from local_platform.warehouse import apply_sql, deploy
from local_platform.warehouse.control import WarehouseSettings, session
from snowpark.energy_snowpark.load_export import LoadError, StageReader, load_export
from snowpark.energy_snowpark.refresh import refresh
from snowpark.energy_snowpark.reporting_views import build_views

EXPORT_STAGE = "CURATED.EXPORT_STAGE"


def stage_name(settings: WarehouseSettings) -> str:
    return f"{settings.database}.{EXPORT_STAGE}"


def local_stage_reader(snowpark_session: Any, database: str, stage: str = "EXPORT_STAGE") -> StageReader:
    """Read a file of a file:// external stage from disk (fakesnow cannot SELECT from a stage)."""
    rows = snowpark_session.sql(f"SHOW STAGES IN SCHEMA {database}.CURATED").collect()
    urls = [row["url"] for row in rows if row["name"].upper() == stage.upper()]
    if not urls or not urls[0].startswith("file://"):
        raise LoadError(f"local stage {database}.CURATED.{stage} missing or not a file:// stage: {urls}")
    root = Path(url2pathname(urlparse(urls[0]).path))

    def read(relative_path: str) -> str:
        path = root / relative_path
        if not path.is_file():
            raise LoadError(f"@{database}.CURATED.{stage}/{relative_path} not found ({path})")
        return path.read_text(encoding="utf-8")

    return read


def check_readable(settings: WarehouseSettings, export_root: str) -> None:
    """The local warehouse's DuckDB reads only the folders it was started with (docs/security.md): a stage on any
    other folder is refused here, naming both, rather than failing at the first COPY."""
    if "://" in export_root and not export_root.startswith("file:"):
        return
    folder = Path(export_root.removeprefix("file://")).resolve()
    allowed = [Path(d).resolve() for d in settings.data_dirs]
    if not any(folder.is_relative_to(d) for d in allowed):
        raise ValueError(
            f"export folder {folder} is outside the folders the local warehouse may read "
            f"({', '.join(map(str, allowed))}): start it with the folder in WarehouseSettings.data_dirs"
        )


def apply(settings: WarehouseSettings, export_root: str) -> list[apply_sql.StatementResult]:
    """The deploy plan on the local warehouse: sql/ in plan order, the views built on whatever the tables hold."""
    check_readable(settings, export_root)
    with session(settings) as snowpark_session:
        variables = apply_sql.local_variables(export_root, settings.database)
        return deploy.run_locally(
            snowpark_session, variables, lambda s: build_views(s, settings.database, qualify_functions=False)
        )


def load(settings: WarehouseSettings, batch_id: str = "LATEST") -> dict[str, Any]:
    with session(settings) as s:
        return load_export(
            s, stage_name(settings), batch_id, settings.database, local_stage_reader(s, settings.database)
        )


def build(settings: WarehouseSettings) -> dict[str, Any]:
    with session(settings, schema="REPORTING") as s:
        return build_views(s, settings.database, qualify_functions=False)


def load_and_build(settings: WarehouseSettings, batch_id: str = "LATEST") -> dict[str, Any]:
    with session(settings) as s:
        reader = local_stage_reader(s, settings.database)
        return refresh(s, stage_name(settings), batch_id, settings.database, reader, qualify_functions=False)
