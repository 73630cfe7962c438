"""The local warehouse process: fakesnow's server on a DuckDB file, serving 127.0.0.1, with the project's UDFs.

fakesnow accepts `CREATE FUNCTION` and then answers calls with the function's body text. So this process registers
the project's own handler code as DuckDB Python functions before serving, and refuses every CREATE FUNCTION with a
clear error instead of letting a wrong value reach a view. fakesnow also accepts any login; this process accepts
only the user and password of the `local` connection in .snowflake/config.toml. Uses fakesnow internals
(`server.shared_fs`, `server.routes`, `FakeSnowflakeCursor.execute`): the version is pinned in pyproject.toml
and the behaviour is covered by tests.

Run: python -m local_platform.warehouse.server --db-path DIR --port N
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from typing import Any

import duckdb
import pyarrow as pa
import snowflake.connector.errors

from snowpark.energy_snowpark.load_factor import load_factor, load_factor_vectorized

CREATE_FUNCTION = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?((TEMP|TEMPORARY|SECURE)\s+)*(AGGREGATE\s+)?FUNCTION\b", re.IGNORECASE
)
REFERENCE_CALL = re.compile(r"\breference\(\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\)", re.IGNORECASE)
REFERENCES_SCHEMA = "APP_REFERENCES"
REFUSAL = (
    "the local warehouse refuses CREATE FUNCTION: fakesnow would store the body and return its text instead of running "
    "it. The project's UDFs (LOAD_FACTOR, LOAD_FACTOR_VECTORIZED) are registered from snowpark/energy_snowpark when "
    "the local warehouse starts."
)


def _vectorized_arrow(avg: pa.Array, peak: pa.Array) -> pa.Array:
    """DuckDB arrow UDF adapter: one batch of rows through the vectorized handler, as Snowflake would call it."""
    import pandas as pd

    frame = pd.DataFrame({0: avg.to_pandas(), 1: peak.to_pandas()})
    return pa.array(load_factor_vectorized(frame), type=pa.float64(), from_pandas=True)


def register_udfs(duck_conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Register the project's UDF handlers under the names snowflake.yml deploys them as."""
    duck_conn.create_function(
        "LOAD_FACTOR", load_factor, ["DOUBLE", "DOUBLE"], "DOUBLE", null_handling="special", side_effects=False
    )
    duck_conn.create_function(
        "LOAD_FACTOR_VECTORIZED",
        _vectorized_arrow,
        ["DOUBLE", "DOUBLE"],
        "DOUBLE",
        type="arrow",
        null_handling="special",
    )
    return ["LOAD_FACTOR", "LOAD_FACTOR_VECTORIZED"]


def refuse_create_function() -> None:
    """Make fakesnow's cursor raise a ProgrammingError (sent to the client) for any CREATE FUNCTION, and resolve
    native-app references (see bind_references_locally)."""
    from fakesnow.cursor import FakeSnowflakeCursor

    for method_name in ("execute", "_describe_only"):  # the server describes some statements before running them
        original = getattr(FakeSnowflakeCursor, method_name)
        if not getattr(original, "_refuses_create_function", False):
            setattr(FakeSnowflakeCursor, method_name, _refusing(original))


def bind_references_locally(command: str) -> str:
    """`reference('daily_demand')` -> `APP_REFERENCES.DAILY_DEMAND` of the session's database.

    The local stand-in for a native app's bound references: a test "installs" the app as a database whose schema
    APP_REFERENCES holds one view per bound reference and nothing else, so a read that bypasses the references
    finds nothing, as in an installed app.
    """
    return REFERENCE_CALL.sub(lambda match: f"{REFERENCES_SCHEMA}.{match.group(1).upper()}", command)


def _refusing(original: Any) -> Any:
    def method(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, str) and CREATE_FUNCTION.match(command):
            raise snowflake.connector.errors.ProgrammingError(msg=REFUSAL, errno=2140, sqlstate="42601")
        if isinstance(command, str):
            command = bind_references_locally(command)
        return original(self, command, *args, **kwargs)

    method._refuses_create_function = True  # type: ignore[attr-defined]
    return method


def checking_password(login: Any, user: str, password: str) -> Any:
    """Wrap fakesnow's login endpoint: a wrong user or password gets Snowflake's refusal (390100), not a session."""
    from starlette.responses import JSONResponse

    async def endpoint(request: Any) -> Any:
        body = await request.body()  # starlette caches it, so fakesnow's own handler reads it again
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        data = json.loads(body).get("data", {})
        if data.get("LOGIN_NAME") != user or data.get("PASSWORD") != password:
            refusal = {"code": "390100", "message": "Incorrect username or password was specified.", "data": None}
            return JSONResponse({**refusal, "success": False})
        return await login(request)

    return endpoint


def guarded_app(user: str, password: str) -> Any:
    """fakesnow's Starlette app with the login route replaced by one that checks the local credentials."""
    import fakesnow.server
    from starlette.applications import Starlette
    from starlette.routing import Route

    routes = [
        Route(r.path, checking_password(r.endpoint, user, password), methods=list(r.methods or ()))
        if r.endpoint is fakesnow.server.login_request
        else r
        for r in fakesnow.server.routes
    ]
    return Starlette(routes=routes)


def serve(db_path: str, port: int, host: str = "127.0.0.1") -> None:
    import fakesnow.server
    import uvicorn
    from fakesnow.instance import FakeSnow

    from local_platform.warehouse import copy_metadata
    from local_platform.warehouse.control import local_credentials

    instance = FakeSnow(db_path=db_path)
    register_udfs(instance.duck_conn)
    refuse_create_function()
    copy_metadata.install()
    copy_metadata.report_write_conflicts()
    fakesnow.server.shared_fs = instance
    uvicorn.run(guarded_app(*local_credentials()), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-path", required=True, help="folder of the DuckDB files (one per database)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(args.db_path, args.port)


if __name__ == "__main__":
    main()
