"""REFRESH_REPORTING procedure: load the latest (or a given) export; for the scheduled TASK.

The refresh loads and does not rebuild the views: a view shows new rows without being re-created, and inside a
native app a consumer's reference stays valid only until the referenced object is dropped, so re-creating the views
daily could break the app's bindings. Views are built once, at deploy (BUILD_REPORTING_VIEWS).
"""

from __future__ import annotations

from typing import Any

from snowflake.snowpark import Session

from .load_export import StageReader, load_export


def refresh(
    session: Any, stage_name: str, batch_id: str, database_name: str, read: StageReader | None = None
) -> dict[str, Any]:
    """The load's report under "load" (see load_export)."""
    return {"load": load_export(session, stage_name, batch_id, database_name, read)}


def main(session: Session, stage_name: str, batch_id: str, database_name: str) -> dict:
    """Procedure handler: CALL ENERGY.CURATED.REFRESH_REPORTING('ENERGY.CURATED.EXPORT_STAGE', 'LATEST', 'ENERGY')."""
    return refresh(session, stage_name, batch_id, database_name)
