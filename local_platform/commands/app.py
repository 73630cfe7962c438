"""`energy-platform app`: the Streamlit-in-Snowflake app served on localhost against the local warehouse."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parents[2] / "streamlit_in_snowflake"
APP_SCRIPT = APP_DIR / "streamlit_app.py"

DESCRIPTION = """\
Serve the Streamlit-in-Snowflake app (streamlit_in_snowflake/streamlit_app.py) with `streamlit run --server.headless
true` against the local warehouse. In Snowflake the app gets its session from get_active_session(); here this command
first opens a Snowpark session on the local warehouse (a fakesnow server on 127.0.0.1: ENERGY_WAREHOUSE_PORT or the
port of .snowflake/config.toml), which makes it the active session, then runs Streamlit in the same process.
The REPORTING views must exist: run `energy-platform demo` (or `energy-platform warehouse start` + `refresh`) first.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "app",
        help="serve the Streamlit app on localhost against the local warehouse",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("ENERGY_APP_PORT", 8501)), help="HTTP port (8501)"
    )
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.set_defaults(func=run)


def missing_views(session: Any) -> list[str]:
    """The REPORTING views the app reads that the warehouse does not have."""
    from snowflake.snowpark.exceptions import SnowparkSQLException

    if str(APP_DIR) not in sys.path:
        sys.path.insert(0, str(APP_DIR))
    from energy_app import views

    missing = []
    for name in views.ALL_VIEWS:
        try:
            views.read(session, name).limit(1).collect()
        except SnowparkSQLException:
            missing.append(f"{views.SCHEMA}.{name}")
    return missing


def streamlit_arguments(port: int, address: str) -> list[str]:
    return [
        "run",
        str(APP_SCRIPT),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def run(args: argparse.Namespace) -> int:
    from streamlit.web import cli as streamlit_cli

    from local_platform.warehouse import control

    settings = control.WarehouseSettings.from_env()
    if not control._port_open(settings.host, settings.resolved_port):
        print(
            f"no local warehouse on {settings.host}:{settings.resolved_port}: run `energy-platform warehouse start` "
            "and load it (`energy-platform demo` does both)",
            file=sys.stderr,
        )
        return 2
    with control.session(settings, schema="REPORTING") as session:
        missing = missing_views(session)
        if missing:
            print(
                f"the local warehouse lacks {', '.join(missing)} in {settings.database}: load an export and build "
                "the views first (`energy-platform warehouse refresh`, or `energy-platform demo`)",
                file=sys.stderr,
            )
            return 2
        print(f"app on http://{args.address}:{args.port} (warehouse {settings.host}:{settings.resolved_port})")
        # Same process: the session opened above is the one the app's get_active_session() returns.
        return int(
            streamlit_cli.main(
                args=streamlit_arguments(args.port, args.address), prog_name="streamlit", standalone_mode=False
            )
            or 0
        )
