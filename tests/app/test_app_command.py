"""`energy-platform app`: its help, and the clear refusals when the local warehouse is missing or not loaded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_platform.cli", "app", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_says_what_it_serves_and_against_what():
    result = _app("--help")
    assert result.returncode == 0
    assert "streamlit run --server.headless" in result.stdout.replace("\n", " ")
    assert "--port" in result.stdout


def test_refuses_clearly_without_a_running_warehouse(tmp_path):
    port = _free_port()
    result = _app(env={"ENERGY_WAREHOUSE_DIR": str(tmp_path), "ENERGY_WAREHOUSE_PORT": str(port)})
    assert result.returncode == 2
    assert f"no local warehouse on 127.0.0.1:{port}" in result.stderr


@pytest.mark.server
def test_refuses_clearly_when_the_reporting_views_are_missing(tmp_path):
    from local_platform.warehouse import control

    settings = control.WarehouseSettings(state_dir=tmp_path, port=_free_port())
    control.start(settings)
    try:
        result = _app(env={"ENERGY_WAREHOUSE_DIR": str(tmp_path), "ENERGY_WAREHOUSE_PORT": str(settings.port)})
    finally:
        control.stop(settings)
    assert result.returncode == 2, result.stderr
    assert "the local warehouse lacks REPORTING.REGIONS, REPORTING.DAILY_DEMAND" in result.stderr
