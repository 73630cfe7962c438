"""Fixtures for the app tests: the app's folder on sys.path (as `streamlit run` and Snowflake put it), seeded views."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "streamlit_in_snowflake"
for folder in (APP_DIR, Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import reporting_seed  # noqa: E402  (needs the path above)

SEED_START = dt.date(2021, 2, 15)  # spans the spring DST change (2021-03-14, a 23-hour local day)
SEED_DAYS = 60


@pytest.fixture(scope="session")
def seeded_views():
    """The REPORTING views' rows, by view name (pandas)."""
    return reporting_seed.reporting_views(SEED_START, SEED_DAYS)


@pytest.fixture(scope="session")
def local_warehouse_views():
    """A year of the REPORTING views' rows, for the local warehouse (the browser sees full-year charts)."""
    return reporting_seed.reporting_views(dt.date(2021, 1, 1), 365)


@pytest.fixture(scope="session")
def seeded_local_warehouse(tmp_path_factory, local_warehouse_views):
    """A local warehouse process (fakesnow server on a DuckDB folder, 127.0.0.1) holding the seeded views."""
    from local_platform.warehouse import control

    state = tmp_path_factory.mktemp("warehouse")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = control.WarehouseSettings(state_dir=state, port=port)
    reporting_seed.write_to_local_warehouse(settings.db_path, local_warehouse_views)
    control.start(settings)
    yield settings
    control.stop(settings)


@pytest.fixture(scope="session")
def local_testing_session(seeded_views):
    """A Snowpark local-testing session holding the seeded views as tables (becomes the active session)."""
    from snowflake.snowpark import Session
    from snowflake.snowpark import types as T

    snowpark_types = {
        "DATE": T.DateType(),
        "TIMESTAMP_NTZ": T.TimestampType(T.TimestampTimeZone.NTZ),
        "BOOLEAN": T.BooleanType(),
        "BIGINT": T.LongType(),
        "DOUBLE": T.DoubleType(),
        "VARCHAR": T.StringType(),
    }
    session = Session.builder.config("local_testing", True).create()
    for name, frame in seeded_views.items():
        schema = T.StructType(
            [T.StructField(c, snowpark_types[reporting_seed.column_type(c, frame[c])]) for c in frame.columns]
        )
        session.create_dataframe(reporting_seed.python_rows(frame), schema=schema).write.save_as_table(
            f"REPORTING.{name}"
        )
    yield session
    session.close()
