"""The local warehouse process: fakesnow's server on a DuckDB file, serving 127.0.0.1, with the project's UDFs.

fakesnow accepts `CREATE FUNCTION` and then answers calls with the function's body text. So this process registers
the project's own handler code as DuckDB Python functions before serving, and refuses every CREATE FUNCTION with a
clear error instead of letting a wrong value reach a view. fakesnow also accepts any login; this process accepts
only the user of the `local` connection in .snowflake/config.toml with this install's generated password
(control.local_credentials).

fakesnow runs DuckDB with the server user's full file access, and its upload route takes writes from anyone who can
reach the port. So this process also (docs/security.md):
- limits DuckDB to the folders it needs (its database files, the stages' bucket, the export folders it is given):
  `allowed_directories`, external access off, configuration locked;
- refuses SQL that names DuckDB's file functions (`read_blob`, `read_csv`, `glob`, ...) or statements (`ATTACH`,
  `COPY ... TO`, `INSTALL`, ...), which Snowflake does not have;
- accepts an upload only at a URL it handed to a logged-in session (signed with a per-process secret);
- answers only requests whose Host is localhost or 127.0.0.1 (a DNS-rebinding page sends its own host name);
- refuses a login that asks for its own database file (fakesnow's FAKESNOW_DB_PATH session parameter).
Uses fakesnow internals (`server.shared_fs`, `server.routes`, `server.gcs_stage_info`, `FakeSnowflakeCursor.execute`):
the version is pinned in pyproject.toml and the behaviour is covered by tests.

Run: python -m local_platform.warehouse.server --db-path DIR --port N [--allow-dir DIR ...]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import hmac
import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb
import pyarrow as pa
import snowflake.connector.errors

from snowpark.energy_snowpark.load_factor import load_factor, load_factor_vectorized

CREATE_FUNCTION = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?((TEMP|TEMPORARY|SECURE)\s+)*(AGGREGATE\s+)?FUNCTION\b", re.IGNORECASE
)
REFERENCE_CALL = re.compile(r"\breference\(\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\)", re.IGNORECASE)
REFERENCES_SCHEMA = "APP_REFERENCES"
# DuckDB's ways to a file, none of which Snowflake has: table functions that read or list files, a quoted path used
# as a table (replacement scan), and statements that attach, copy out, export or load extensions.
FILE_FUNCTION = re.compile(
    r"\b(read_\w+|parquet_\w+|glob|sniff_csv|iceberg_\w+|delta_scan|query_table|sqlite_\w+|postgres_\w+|"
    r"mysql_\w+|duckdb_\w+_files|load_aws_credentials)\s*\(",
    re.IGNORECASE,
)
PATH_AS_TABLE = re.compile(r"\b(FROM|JOIN)\s+'(?!@)", re.IGNORECASE)  # '@stage' is Snowflake's own
FILE_STATEMENT = re.compile(
    r"^\s*(ATTACH|DETACH|INSTALL|LOAD|PRAGMA|EXPORT\s+DATABASE|IMPORT\s+DATABASE|COPY\s+(?!INTO\b))", re.IGNORECASE
)
FILE_REFUSAL = (
    "the local warehouse refuses DuckDB's file access in SQL ({what}): Snowflake has no such function, and the local "
    "stand-in reads only its stages"
)
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# Signs the upload URLs this process hands to logged-in sessions; new on every start.
UPLOAD_SECRET = secrets.token_bytes(32)
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


def file_access(command: str) -> str | None:
    """What in the statement would reach a file through DuckDB, or None."""
    for pattern in (FILE_FUNCTION, PATH_AS_TABLE, FILE_STATEMENT):
        if match := pattern.search(command):
            return match.group(0).strip()
    return None


def _refusing(original: Any) -> Any:
    def method(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, str) and CREATE_FUNCTION.match(command):
            raise snowflake.connector.errors.ProgrammingError(msg=REFUSAL, errno=2140, sqlstate="42601")
        if isinstance(command, str) and (what := file_access(command)):
            raise snowflake.connector.errors.ProgrammingError(
                msg=FILE_REFUSAL.format(what=what), errno=3001, sqlstate="42501"
            )
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
        if data.get("LOGIN_NAME") != user or not hmac.compare_digest(str(data.get("PASSWORD", "")), password):
            refusal = {"code": "390100", "message": "Incorrect username or password was specified.", "data": None}
            return JSONResponse({**refusal, "success": False})
        if "FAKESNOW_DB_PATH" in (data.get("SESSION_PARAMETERS") or {}):
            refusal = {"code": "390201", "message": "the local warehouse serves its own database files only"}
            return JSONResponse({**refusal, "data": None, "success": False})
        return await login(request)

    return endpoint


def upload_signature(path: str) -> str:
    return hmac.new(UPLOAD_SECRET, path.encode(), hashlib.sha256).hexdigest()


def signing_stage_info(stage_info: Any) -> Any:
    """Wrap fakesnow's presigned-URL maker: the URL it hands a logged-in session carries a signature of its path."""

    def signed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        info = stage_info(*args, **kwargs)
        path = unquote(urlsplit(info["presignedUrl"]).path.removeprefix("/fs_bucket/"))
        info["presignedUrl"] += f"?signature={upload_signature(path)}"
        return info

    return signed


def requiring_signature(upload: Any) -> Any:
    """Wrap fakesnow's upload route: a PUT without the signature of its path (no login asked for it) is refused."""
    from starlette.responses import Response

    async def endpoint(request: Any) -> Any:
        given = parse_qs(request.url.query).get("signature", [""])[0]
        if not hmac.compare_digest(given, upload_signature(request.path_params["path"])):
            return Response("upload refused: not a URL this warehouse gave a logged-in session", status_code=403)
        return await upload(request)

    return endpoint


def guarded_app(user: str, password: str) -> Any:
    """fakesnow's Starlette app with the login route checking the local credentials, the upload route checking its
    signature, and only local Host headers answered."""
    import fakesnow.server
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Route

    def guarded(route: Any) -> Any:
        if route.endpoint is fakesnow.server.login_request:
            return Route(route.path, checking_password(route.endpoint, user, password), methods=list(route.methods))
        if route.endpoint is fakesnow.server.bucket_upload:
            return Route(route.path, requiring_signature(route.endpoint), methods=list(route.methods))
        return route

    if not getattr(fakesnow.server.gcs_stage_info, "_signs", False):
        fakesnow.server.gcs_stage_info = signing_stage_info(fakesnow.server.gcs_stage_info)
        fakesnow.server.gcs_stage_info._signs = True
    hosts = Middleware(TrustedHostMiddleware, allowed_hosts=list(LOCAL_HOSTS))
    return Starlette(routes=[guarded(r) for r in fakesnow.server.routes], middleware=[hosts])


def lock_down(duck_conn: duckdb.DuckDBPyConnection, allowed: list[Path], temp_dir: Path) -> None:
    """DuckDB may touch only `allowed` folders (and its temp folder) from now on, and no one can change that."""
    temp_dir.mkdir(parents=True, exist_ok=True)

    def literal(path: Path) -> str:
        return "'" + str(path.resolve()).replace("'", "''") + "/'"

    duck_conn.execute(f"SET temp_directory = {literal(temp_dir)}")
    duck_conn.execute(f"SET allowed_directories = [{', '.join(literal(p) for p in allowed)}]")
    duck_conn.execute("SET enable_external_access = false")
    duck_conn.execute("SET lock_configuration = true")


def serve(db_path: str, port: int, allowed: list[str], host: str = "127.0.0.1") -> None:
    import fakesnow.server
    import uvicorn
    from fakesnow.instance import FakeSnow
    from fakesnow.transforms import stage

    from local_platform.warehouse import copy_metadata
    from local_platform.warehouse.control import local_credentials

    instance = FakeSnow(db_path=db_path)
    register_udfs(instance.duck_conn)
    refuse_create_function()
    folders = [Path(db_path), Path(stage.LOCAL_BUCKET_PATH), *map(Path, allowed)]
    lock_down(instance.duck_conn, folders, Path(db_path) / ".tmp")
    copy_metadata.install()
    copy_metadata.report_duckdb_errors()
    fakesnow.server.shared_fs = instance
    uvicorn.run(guarded_app(*local_credentials()), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-path", required=True, help="folder of the DuckDB files (one per database)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--allow-dir", action="append", default=[], help="a folder DuckDB may read (the exports)")
    args = parser.parse_args(argv)
    serve(args.db_path, args.port, args.allow_dir)


if __name__ == "__main__":
    main()
