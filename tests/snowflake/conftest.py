"""Fixtures for the Snowflake side: a contract export (contract_export.py) and a local warehouse (fakesnow server
subprocess on a free 127.0.0.1 port, DuckDB files in a temp folder) with sql/ applied and the stage on the export."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from contract_export import BATCH_1, export_tables, write_export  # noqa: E402  (needs the path above)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    write_export(root, BATCH_1, export_tables(BATCH_1))
    return root


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, export_root):
    """A running local warehouse with sql/ applied and the stage on export_root; stopped after the module."""
    from local_platform.warehouse import control, runner

    settings = control.WarehouseSettings(
        state_dir=tmp_path_factory.mktemp("warehouse"),
        port=free_port(),
        data_dirs=(tmp_path_factory.getbasetemp(),),  # the module's export and the tests' own export folders
    )
    control.start(settings)
    try:
        runner.apply(settings, str(export_root))
        yield settings
    finally:
        control.stop(settings)


@pytest.fixture()
def wh_session(warehouse):
    from local_platform.warehouse import control

    with control.session(warehouse) as session:
        yield session
