"""Start, stop and connect to the local warehouse process; write the Snowflake CLI connection for it."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_CONFIG = PROJECT_ROOT / ".snowflake" / "config.toml"
CONNECTION_NAME = "local"
# This install's password for the local warehouse: generated on first use, readable by its owner only, never in git.
PASSWORD_FILE = PROJECT_ROOT / ".local" / "warehouse-password"


def _local_connection(config_path: Path = CLI_CONFIG) -> dict[str, Any]:
    with open(config_path, "rb") as handle:
        return tomllib.load(handle)["connections"][CONNECTION_NAME]


def default_port(config_path: Path = CLI_CONFIG) -> int:
    """The port of the `local` connection in the project's CLI config: one place says where the warehouse listens."""
    return int(_local_connection(config_path)["port"])


def local_password(path: Path = PASSWORD_FILE) -> str:
    """This install's local warehouse password, generated into `path` (mode 0600) the first time it is asked for.

    Written to a private temporary file, then linked into place: a concurrent first use reads the winner's password,
    never a half-written one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others: chmod 600 it, or delete it to generate a new password")
    return path.read_text(encoding="utf-8").strip()


def local_credentials(config_path: Path = CLI_CONFIG) -> tuple[str, str]:
    """(user, password): the `local` connection's user and this install's generated password, the only login the
    local warehouse accepts."""
    return str(_local_connection(config_path)["user"]), local_password()


@dataclass(frozen=True)
class WarehouseSettings:
    state_dir: Path = PROJECT_ROOT / ".local" / "warehouse"
    port: int = 0  # 0: the CLI config's port
    host: str = "127.0.0.1"
    database: str = "ENERGY"
    # Folders the warehouse's DuckDB may read besides its own files: the export folders its stage points at.
    data_dirs: tuple[Path, ...] = (PROJECT_ROOT / ".local",)

    @classmethod
    def from_env(cls) -> WarehouseSettings:
        """ENERGY_WAREHOUSE_DIR and ENERGY_WAREHOUSE_PORT override the defaults."""
        state_dir = Path(os.environ.get("ENERGY_WAREHOUSE_DIR", cls.state_dir))
        return cls(state_dir=state_dir, port=int(os.environ.get("ENERGY_WAREHOUSE_PORT", 0)))

    @property
    def resolved_port(self) -> int:
        return self.port or default_port()

    @property
    def db_path(self) -> Path:
        return self.state_dir / "duckdb"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def running_pid(settings: WarehouseSettings) -> int | None:
    """The pid of the server this state dir started, if that process is still alive."""
    try:
        pid = int(settings.pid_file.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def start(settings: WarehouseSettings, timeout_s: float = 60.0) -> int:
    """Start the server in the background (no-op when it runs already); returns its pid."""
    if pid := running_pid(settings):
        return pid
    port = settings.resolved_port
    if _port_open(settings.host, port):
        raise RuntimeError(f"{settings.host}:{port} is already in use by another process; set ENERGY_WAREHOUSE_PORT")
    settings.db_path.mkdir(parents=True, exist_ok=True)
    log = open(settings.log_file, "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_platform.warehouse.server",
            "--db-path",
            str(settings.db_path),
            "--port",
            str(port),
            *(argument for folder in settings.data_dirs for argument in ("--allow-dir", str(folder))),
        ],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    settings.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout_s
    while not _port_open(settings.host, port):
        if process.poll() is not None:
            raise RuntimeError(f"local warehouse exited with {process.returncode}; see {settings.log_file}")
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"local warehouse did not listen on {port} within {timeout_s:.0f} s")
        time.sleep(0.1)
    return process.pid


def stop(settings: WarehouseSettings, timeout_s: float = 15.0) -> bool:
    """Stop the server this state dir started; returns False when none was running."""
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        _reap(pid)
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    settings.pid_file.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when this process is the server's parent (tests), so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def connection_parameters(settings: WarehouseSettings, schema: str = "CURATED") -> dict[str, Any]:
    user, password = local_credentials()
    return {
        "account": "local",
        "user": user,
        "password": password,
        "host": settings.host,
        "port": settings.resolved_port,
        "protocol": "http",
        "database": settings.database,
        "schema": schema,
        # No network_timeout: with it the connector arms a (non-daemon) cancel timer per statement that can outlive
        # the session and keep the process alive.
        "login_timeout": 30,
    }


def open_session(settings: WarehouseSettings, schema: str = "CURATED", **parameters: Any) -> Any:
    """A Snowpark Session on the local warehouse (FS+SP: session.sql works; UDF/procedure registration does not).

    Prefer `session()`, which closes it. Session.close() first runs SYSTEM$CANCEL_ALL_QUERIES(<session id>), which
    fakesnow lacks, and its login returns no session id (the query reads `(None)`, so providing the function in the
    server is not enough); the failure leaves the session registered and Snowpark retries the close at interpreter
    exit, forever once the server is gone. Nothing needs cancelling (every statement is synchronous), so that step is
    skipped here.
    """
    from snowflake.snowpark import Session

    snowpark_session = Session.builder.configs({**connection_parameters(settings, schema), **parameters}).create()
    snowpark_session.cancel_all = lambda: None
    return snowpark_session


@contextmanager
def session(settings: WarehouseSettings, schema: str = "CURATED", **parameters: Any) -> Iterator[Any]:
    """`with session(settings) as s:` an open_session() that is closed afterwards; `parameters` override the
    connection's (e.g. network_timeout for long loads)."""
    snowpark_session = open_session(settings, schema, **parameters)
    try:
        yield snowpark_session
    finally:
        snowpark_session.close()


def write_cli_config(path: Path, settings: WarehouseSettings) -> Path:
    """A Snowflake CLI config (mode 0600) with a `local` connection to this warehouse: the project's config with this
    warehouse's port and this install's password."""
    text, count = re.subn(r"(?m)^port = \d+$", f"port = {settings.resolved_port}", CLI_CONFIG.read_text("utf-8"))
    if count != 1:
        raise ValueError(f"{CLI_CONFIG}: expected exactly one 'port = N' line, found {count}")
    text = text.replace("\nhost = ", f"\npassword = {json.dumps(local_password())}\nhost = ", 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
    return path
