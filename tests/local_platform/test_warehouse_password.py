"""The local warehouse's password is this install's own: generated, private to its owner, never in the repository."""

from __future__ import annotations

import stat
import tomllib

import pytest

from local_platform.warehouse import control


def test_a_password_is_generated_once_private_and_kept(tmp_path):
    path = tmp_path / ".local" / "warehouse-password"
    first = control.local_password(path)
    assert len(first) >= 32 and first != "local"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert control.local_password(path) == first  # kept: a running warehouse and its clients agree
    assert control.local_password(tmp_path / "other") != first  # another install, another password
    assert [p.name for p in path.parent.iterdir()] == ["warehouse-password"]  # no temporary file left


def test_a_password_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "warehouse-password"
    control.local_password(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="readable by others"):
        control.local_password(path)


def test_the_repository_holds_no_password_and_the_cli_config_gets_this_installs(tmp_path):
    connection = tomllib.loads(control.CLI_CONFIG.read_text("utf-8"))["connections"]["local"]
    assert "password" not in connection
    settings = control.WarehouseSettings(state_dir=tmp_path, port=9999)
    written = control.write_cli_config(tmp_path / "config.toml", settings)
    local = tomllib.loads(written.read_text("utf-8"))["connections"]["local"]
    assert (local["password"], local["port"], local["user"]) == (control.local_password(), 9999, connection["user"])
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
