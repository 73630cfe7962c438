"""REFRESH_REPORTING procedure: load the latest (or a given) export, then rebuild the views; for the scheduled TASK."""

from __future__ import annotations

from typing import Any

from snowflake.snowpark import Session

from .load_export import StageReader, load_export
from .reporting_views import build_views


def refresh(
    session: Any,
    stage_name: str,
    batch_id: str,
    database_name: str,
    read: StageReader | None = None,
    qualify_functions: bool = True,
) -> dict[str, Any]:
    """Load then build views; a failed load raises before any view is touched. See load_export / build_views."""
    load = load_export(session, stage_name, batch_id, database_name, read)
    views = build_views(session, database_name, qualify_functions)
    return {"load": load, "views": views}


def main(session: Session, stage_name: str, batch_id: str, database_name: str) -> dict:
    """Procedure handler: CALL ENERGY.CURATED.REFRESH_REPORTING('ENERGY.CURATED.EXPORT_STAGE', 'LATEST', 'ENERGY')."""
    return refresh(session, stage_name, batch_id, database_name)
