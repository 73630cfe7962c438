"""The app as a native app: inside an installed app the session's database is the application, and consumer views
are reachable only through the references declared in manifest.yml.

The local warehouse stands in for an installed app: a database ENERGY_APP whose schema APP_REFERENCES holds one view
per reference of the manifest (bound to ENERGY.REPORTING) and nothing else, and the server resolves
`reference('<name>')` to that schema. A view the app read by name, or a reference missing from the manifest, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
import yaml
from apptest_helpers import open_page, started_app
from energy_app import views

MANIFEST = Path(__file__).resolve().parents[2] / "sql" / "native_app" / "manifest.yml"


def manifest_references() -> dict[str, dict]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {name: spec for entry in manifest["references"] for name, spec in entry.items()}


@pytest.fixture(scope="module")
def installed_app(seeded_local_warehouse):
    """A session whose current database is the "installed app", with the manifest's references bound."""
    from local_platform.warehouse import control

    with control.session(seeded_local_warehouse, schema="REPORTING") as admin:
        for statement in (
            "CREATE DATABASE IF NOT EXISTS ENERGY_APP",
            "CREATE SCHEMA IF NOT EXISTS ENERGY_APP.CORE",
            "CREATE SCHEMA IF NOT EXISTS ENERGY_APP.APP_REFERENCES",
            *(
                f"CREATE OR REPLACE VIEW ENERGY_APP.APP_REFERENCES.{name.upper()} AS "
                f"SELECT * FROM ENERGY.REPORTING.{name.upper()}"
                for name in manifest_references()
            ),
        ):
            admin.sql(statement).collect()
    with control.session(seeded_local_warehouse, database="ENERGY_APP", schema="CORE") as session:
        yield session


def _metrics_of_every_page(session, monkeypatch) -> dict[tuple[str, str], str]:
    st.cache_data.clear()  # every figure must be read again through this session's names
    app = started_app(session, monkeypatch)
    shown = {}
    for page in app.radio(key="page").options:
        open_page(app, page)
        assert not app.error, (page, [e.value for e in app.error])
        shown |= {(page, m.label): m.value for m in app.metric}
    return shown


def test_every_page_reads_through_references_and_shows_the_standalone_figures(
    installed_app, seeded_local_warehouse, monkeypatch
):
    from local_platform.warehouse import control

    with control.session(seeded_local_warehouse, schema="REPORTING") as standalone:
        expected = _metrics_of_every_page(standalone, monkeypatch)
    monkeypatch.setenv(views.MODE_VARIABLE, "1")
    try:
        assert _metrics_of_every_page(installed_app, monkeypatch) == expected
    finally:
        st.cache_data.clear()
    assert len(expected) > 10


def test_a_view_read_by_name_fails_inside_the_installed_app(installed_app, monkeypatch):
    from snowflake.snowpark.exceptions import SnowparkSQLException

    monkeypatch.delenv(views.MODE_VARIABLE, raising=False)
    with pytest.raises(SnowparkSQLException):
        views.read(installed_app, views.DAILY_DEMAND).limit(1).collect()
    monkeypatch.setenv(views.MODE_VARIABLE, "1")
    assert views.read(installed_app, views.DAILY_DEMAND).limit(1).collect()


def test_manifest_setup_script_and_seam_name_the_same_views():
    from snowpark.energy_snowpark.reporting_views import VIEWS

    references = manifest_references()
    assert set(references) == set(views.REFERENCES.values())
    assert {name.upper() for name in references} == set(views.ALL_VIEWS) <= set(VIEWS)
    for name, spec in references.items():
        assert spec["object_type"] == "VIEW" and spec["privileges"] == ["SELECT"], name
        # The database is the deploy's (`snow app bundle --env database=…` renders it; tests/snowflake renders it).
        assert spec["description"] == f"SELECT on <% ctx.env.database %>.REPORTING.{name.upper()}", name
        assert spec["register_callback"] == "config.register_reference", name
    setup = " ".join((MANIFEST.parent / "setup_script.sql").read_text(encoding="utf-8").split())
    assert "CREATE OR ALTER VERSIONED SCHEMA config;" in setup
    assert (
        "CREATE OR REPLACE PROCEDURE config.register_reference(ref_name STRING, operation STRING, ref_or_alias" in setup
    )
    assert (
        "GRANT USAGE ON PROCEDURE config.register_reference(STRING, STRING, STRING) TO APPLICATION ROLE app_admin"
        in setup
    )
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["artifacts"]["extension_code"] is True
