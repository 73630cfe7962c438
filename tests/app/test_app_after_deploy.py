"""Right after the deploy, before any load: the views exist (built at deploy) and the app says there is no data yet."""

from __future__ import annotations

import socket

import pytest
import streamlit as st
from apptest_helpers import started_app

pytestmark = pytest.mark.server


def test_app_opens_on_no_data_yet_after_the_deploy(tmp_path, monkeypatch):
    from local_platform.warehouse import control, runner

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = control.WarehouseSettings(state_dir=tmp_path / "warehouse", port=port, data_dirs=(tmp_path / "export",))
    control.start(settings)
    st.cache_data.clear()
    try:
        runner.apply(settings, str(tmp_path / "export"))  # the deploy plan, locally; nothing loaded
        with control.session(settings, schema="REPORTING") as session:
            app = started_app(session, monkeypatch)
    finally:
        st.cache_data.clear()
        control.stop(settings)
    assert not app.error
    assert [w.value for w in app.warning] == ["The warehouse has no demand data yet: load a Gold export first."]
