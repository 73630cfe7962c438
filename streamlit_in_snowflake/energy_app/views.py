"""The REPORTING views the app reads (the agreed contract), and the one place that decides how they are named.

- Streamlit in Snowflake (`snow streamlit deploy`): `REPORTING.<VIEW>` in the session's current database (the
  database holding the Streamlit object; locally the launcher's), so the app works whatever the database is called.
- Native app (`snow app deploy`): the session's database is the application itself, and consumer objects are
  reachable only through references declared in manifest.yml and bound by the consumer: `reference('<name>')`.
  The app package ships READS_THROUGH_REFERENCES next to streamlit_app.py (snowflake.yml); its presence, or
  ENERGY_APP_READS_THROUGH_REFERENCES=1 (the local native-app test), selects this mode.
No page knows which mode runs: every query starts from `read(session, VIEW)`.
"""

from __future__ import annotations

import os
from pathlib import Path

from snowflake.snowpark import DataFrame, Session

SCHEMA = "REPORTING"
MODE_MARKER = Path(__file__).resolve().parents[1] / "READS_THROUGH_REFERENCES"
MODE_VARIABLE = "ENERGY_APP_READS_THROUGH_REFERENCES"

REGIONS = "REGIONS"
DAILY_DEMAND = "DAILY_DEMAND"
HOURLY_DEMAND = "HOURLY_DEMAND"
HOURLY_LOAD_SHAPE = "HOURLY_LOAD_SHAPE"
LOAD_FACTOR_WEEKLY = "LOAD_FACTOR_WEEKLY"
LOAD_FACTOR_MONTHLY = "LOAD_FACTOR_MONTHLY"
RELIABILITY_DAILY = "RELIABILITY_DAILY"
RELIABILITY_MONTHLY = "RELIABILITY_MONTHLY"
OUTAGE_EVENTS = "OUTAGE_EVENTS"
DATA_FRESHNESS = "DATA_FRESHNESS"
FILE_ACCOUNTING = "FILE_ACCOUNTING"
QUARANTINE_SUMMARY = "QUARANTINE_SUMMARY"

ALL_VIEWS = (
    REGIONS,
    DAILY_DEMAND,
    HOURLY_DEMAND,
    HOURLY_LOAD_SHAPE,
    LOAD_FACTOR_WEEKLY,
    LOAD_FACTOR_MONTHLY,
    RELIABILITY_DAILY,
    RELIABILITY_MONTHLY,
    OUTAGE_EVENTS,
    DATA_FRESHNESS,
    FILE_ACCOUNTING,
    QUARANTINE_SUMMARY,
)
# view -> the name of its reference in sql/native_app/manifest.yml (a test keeps the two equal)
REFERENCES = {view: view.lower() for view in ALL_VIEWS}


def reads_through_references() -> bool:
    return MODE_MARKER.exists() or os.environ.get(MODE_VARIABLE) == "1"


def read(session: Session, view: str) -> DataFrame:
    """The rows of one REPORTING view, named the way the running deployment can reach it."""
    if reads_through_references():
        # The reference name is one of the constants above, never user input.
        return session.sql(f"SELECT * FROM reference('{REFERENCES[view]}')")
    return session.table(f"{SCHEMA}.{view}")
