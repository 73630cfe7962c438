"""Fixtures for the Snowflake side: a contract export (contract_export.py) and a local warehouse (fakesnow server
subprocess on a free 127.0.0.1 port, DuckDB files in a temp folder) with sql/ applied and the stage on the export."""

from __future__ import annotations

import dataclasses
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


@pytest.fixture()
def database(warehouse, tmp_path, request):
    """A database of its own on the module's warehouse (the deploy plan applied to it), its stage on an export folder
    of its own: (settings, export folder)."""
    from local_platform.warehouse import runner

    name = "T_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name).upper()[:60]
    settings = dataclasses.replace(warehouse, database=name)
    export = tmp_path / "export"
    export.mkdir()
    runner.apply(settings, str(export))
    return settings, export


# Names other than snowflake.yml's defaults (local_platform.warehouse.deploy.DEFAULT_NAMES) for every name a deploy
# takes: a deploy under them must leave no default anywhere.
OTHER_NAMES = {
    "database": "OTHERDB",
    "warehouse": "OTHER_WH",
    "admin_role": "OTHER_ADMIN",
    "analyst_role": "OTHER_ANALYST",
    "app_package": "OTHER_PKG",
    "app": "OTHER_APP",
}


@pytest.fixture()
def other_names() -> dict[str, str]:
    from local_platform.warehouse.deploy import DEFAULT_NAMES

    assert sorted(OTHER_NAMES) == sorted(DEFAULT_NAMES)  # every name the deploy takes
    return dict(OTHER_NAMES)


@pytest.fixture()
def other_names_env(other_names) -> list[str]:
    """The `snow` arguments setting snowflake.yml's env to other_names."""
    return [arg for name, value in other_names.items() for arg in ("--env", f"{name}={value}")]
