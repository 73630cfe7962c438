"""Run the Snowpark handlers against the local warehouse: apply sql/, load the export, build the views.

Local differences from Snowflake, each an explicit argument of the handlers rather than a fork of their code:
- fakesnow cannot SELECT from a stage, so the manifest and LATEST are read from the stage's file:// URL;
- fakesnow has no INFER_SCHEMA, so each export file's schema is read from its Parquet footer (same type names);
- DuckDB refuses a database.schema prefix on a Python UDF, so the views call LOAD_FACTOR unqualified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pyarrow as pa
import pyarrow.parquet as pq

from local_platform.warehouse import apply_sql, deploy
from local_platform.warehouse.control import WarehouseSettings, session
from snowpark.energy_snowpark.load_export import LoadError, load_export
from snowpark.energy_snowpark.refresh import refresh
from snowpark.energy_snowpark.reporting_views import build_views

EXPORT_STAGE = "CURATED.EXPORT_STAGE"


def stage_name(settings: WarehouseSettings) -> str:
    return f"{settings.database}.{EXPORT_STAGE}"


def snowflake_type(arrow_type: pa.DataType) -> str:
    """The type INFER_SCHEMA reports for a Parquet column of this Arrow type (the names parquet_schema compares)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "TEXT"
    if pa.types.is_floating(arrow_type):
        return "REAL"
    if pa.types.is_integer(arrow_type):
        return f"NUMBER({38 if arrow_type.bit_width == 64 else 9}, 0)"
    if pa.types.is_decimal(arrow_type):
        return f"NUMBER({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP_LTZ" if arrow_type.tz else "TIMESTAMP_NTZ"
    return str(arrow_type).upper()


class LocalStage:
    """A file:// external stage read from disk: `stage(path)` is a small file's text (fakesnow cannot SELECT from a
    stage), `stage.schemas(folder, names)` each Parquet file's columns from its footer (fakesnow has no
    INFER_SCHEMA). load_export takes `schemas` from a reader that has it."""

    def __init__(self, root: Path, where: str) -> None:
        self.root, self.where = root, where

    def __call__(self, relative_path: str) -> str:
        path = self.root / relative_path
        if not path.is_file():
            raise LoadError(f"{self.where}/{relative_path} not found ({path})")
        return path.read_text(encoding="utf-8")

    def schemas(self, folder: str, file_names: list[str]) -> dict[str, dict[str, str]]:
        result = {}
        for name in file_names:
            path = self.root / folder / name
            try:
                schema = pq.read_schema(path)
            except (OSError, pa.ArrowInvalid):
                continue  # no schema: parquet_schema names the file
            result[name] = {field.name: snowflake_type(field.type) for field in schema}
        return result


def local_stage_reader(snowpark_session: Any, database: str, stage: str = "EXPORT_STAGE") -> LocalStage:
    """The local warehouse's file:// export stage (see LocalStage)."""
    rows = snowpark_session.sql(f"SHOW STAGES IN SCHEMA {database}.CURATED").collect()
    urls = [row["url"] for row in rows if row["name"].upper() == stage.upper()]
    if not urls or not urls[0].startswith("file://"):
        raise LoadError(f"local stage {database}.CURATED.{stage} missing or not a file:// stage: {urls}")
    return LocalStage(Path(url2pathname(urlparse(urls[0]).path)), f"@{database}.CURATED.{stage}")


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
        # Locally the views are (re)built after each load: no native app binds them, and the first demo run needs them.
        return {
            **refresh(s, stage_name(settings), batch_id, settings.database, reader),
            "views": build_views(s, settings.database, qualify_functions=False),
        }
