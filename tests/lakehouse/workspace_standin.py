"""A Databricks workspace stand-in for the real Databricks CLI: an HTTP server on 127.0.0.1 (ephemeral port) that
answers, and records, the REST calls `databricks bundle validate` and `databricks bundle deploy` (direct engine) make.

It keeps just enough state for a deploy to run as it does against a workspace: the current user, workspace files and
folders, jobs, Unity Catalog schemas and volumes. The endpoints and answers follow the Databricks REST API reference
(https://docs.databricks.com/api/workspace/) as the CLI's own test server answers them (databricks/cli
libs/testserver/handlers.go). Any other call is answered 501 and recorded in `unknown`, so the test that ran the CLI
fails naming the method and path. Mocks a workspace only because no local Databricks workspace exists.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

USER_NAME = "alice.smith@example.com"
USER_ID = "4711"
WORKSPACE_ID = "900800700600"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, or the raw bytes of a file upload


class Missing(Exception):
    """A 404 as the workspace answers it: RESOURCE_DOES_NOT_EXIST with a message."""


@dataclass
class Workspace:
    calls: list[Call] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    folders: set[str] = field(default_factory=lambda: {"/", "/Workspace", "/Workspace/Users"})
    files: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[int, dict] = field(default_factory=dict)
    schemas: dict[str, dict] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    permissions: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    runs: dict[int, dict] = field(default_factory=dict)  # job runs as runs/get answers them with include_history
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    user_name: str = USER_NAME  # a service principal's userName is its application id

    def requests(self, method: str, pattern: str) -> list[Call]:
        """The recorded calls of one method whose path matches the regular expression `pattern` in full."""
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    # --- routing -------------------------------------------------------------------------------------------------

    def answer(self, call: Call) -> tuple[int, Any]:
        for method, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, call.path)
            if method == call.method and match:
                try:
                    return 200, handler(self, call, *match.groups())
                except Missing as missing:
                    return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": str(missing)}
        self.unknown.append(f"{call.method} {call.path}")
        return 501, {"error_code": "NOT_IMPLEMENTED", "message": f"the stand-in has no {call.method} {call.path}"}

    # --- identity ------------------------------------------------------------------------------------------------

    def host_metadata(self, call: Call) -> dict:
        return {"workspace_id": WORKSPACE_ID, "oidc_endpoint": f"{self.url}/oidc"}

    def me(self, call: Call) -> dict:
        return {
            "id": USER_ID,
            "userName": self.user_name,
            "displayName": self.user_name,
            "active": True,
            "emails": [{"value": self.user_name, "primary": True}],
            "groups": [{"display": "users", "value": "1"}],
        }

    def get_permissions(self, call: Call, kind: str, object_id: str) -> dict:
        """What was set (PUT replaces an object's list), else the deploying identity managing what it created."""
        who = "user_name" if "@" in self.user_name else "service_principal_name"
        given = self.permissions.get((kind, object_id))
        if given is None:
            given = [{who: self.user_name, "permission_level": "CAN_MANAGE"}]
        return {
            "object_id": f"/{kind}/{object_id}",
            "object_type": kind.rstrip("s"),
            "access_control_list": [
                {
                    **{k: v for k, v in entry.items() if k != "permission_level"},
                    "all_permissions": [{"permission_level": entry["permission_level"], "inherited": False}],
                }
                for entry in given
            ],
        }

    def set_permissions(self, call: Call, kind: str, object_id: str) -> dict:
        self.permissions[(kind, object_id)] = call.body["access_control_list"]
        return self.get_permissions(call, kind, object_id)

    # --- workspace files -----------------------------------------------------------------------------------------

    @staticmethod
    def _absolute(path: str) -> str:
        path = "/" + unquote(path).lstrip("/")
        return path if path.startswith("/Workspace") else "/Workspace" + path

    def _mkdirs(self, path: str) -> None:
        parts = path.rstrip("/").split("/")
        for end in range(2, len(parts) + 1):
            self.folders.add("/".join(parts[:end]))

    def get_status(self, call: Call) -> dict:
        path = self._absolute(call.query["path"])
        if path in self.folders:
            return {"object_type": "DIRECTORY", "path": path, "object_id": abs(hash(path)) % 10**9}
        if path in self.files:
            return {"object_type": "FILE", "path": path, "object_id": abs(hash(path)) % 10**9}
        raise Missing(f"Path ({path}) doesn't exist.")

    def list_folder(self, call: Call) -> dict:
        path = self._absolute(call.query["path"]).rstrip("/")
        if path not in self.folders:
            raise Missing(f"Path ({path}) doesn't exist.")
        children = [
            {"object_type": "DIRECTORY", "path": f} for f in self.folders if f.rsplit("/", 1)[0] == path and f != path
        ]
        children += [{"object_type": "FILE", "path": f} for f in self.files if f.rsplit("/", 1)[0] == path]
        return {"objects": sorted(children, key=lambda o: o["path"])}

    def mkdirs(self, call: Call) -> dict:
        self._mkdirs(self._absolute(call.body["path"]))
        return {}

    def import_file(self, call: Call, path: str) -> dict:
        path = self._absolute(path)
        self._mkdirs(path.rsplit("/", 1)[0])
        self.files[path] = call.body
        return {}

    def read_file(self, call: Call, path: str) -> bytes:
        path = self._absolute(path)
        if path not in self.files:
            raise Missing(f"Path ({path}) doesn't exist.")
        return self.files[path]

    def export(self, call: Call) -> dict | bytes:
        """The CLI's filer reads a file's raw bytes (direct_download=true); the SDK's export takes base64 JSON."""
        path = self._absolute(call.query["path"])
        if path not in self.files:
            raise Missing(f"Path ({path}) doesn't exist.")
        if call.query.get("direct_download") == "true":
            return self.files[path]
        return {"content": base64.b64encode(self.files[path]).decode()}

    def delete(self, call: Call) -> dict:
        path = self._absolute(call.body["path"])
        self.files = {p: b for p, b in self.files.items() if p != path and not p.startswith(path + "/")}
        self.folders = {f for f in self.folders if f != path and not f.startswith(path + "/")}
        return {}

    # --- jobs ----------------------------------------------------------------------------------------------------

    def create_job(self, call: Call) -> dict:
        job_id = 1000 + len(self.jobs)
        self.jobs[job_id] = call.body
        return {"job_id": job_id}

    def get_job(self, call: Call) -> dict:
        job_id = int(call.query["job_id"])
        if job_id not in self.jobs:
            raise Missing(f"Job {job_id} does not exist.")
        return {"job_id": job_id, "creator_user_name": USER_NAME, "settings": self.jobs[job_id]}

    def reset_job(self, call: Call) -> dict:
        job_id = int(call.body["job_id"])
        if job_id not in self.jobs:
            raise Missing(f"Job {job_id} does not exist.")
        self.jobs[job_id] = call.body["new_settings"]
        return {}

    def get_run(self, call: Call) -> dict:
        """A run; its repair_history only when asked for (include_history=true), as the Jobs API answers."""
        run_id = int(call.query["run_id"])
        if run_id not in self.runs:
            raise Missing(f"Run {run_id} does not exist.")
        run = dict(self.runs[run_id])
        if call.query.get("include_history") != "true":
            run.pop("repair_history", None)
        return run

    # --- Unity Catalog -------------------------------------------------------------------------------------------

    def create_schema(self, call: Call) -> dict:
        full_name = f"{call.body['catalog_name']}.{call.body['name']}"
        self.schemas[full_name] = {**call.body, "full_name": full_name, "owner": USER_NAME}
        return self.schemas[full_name]

    def get_schema(self, call: Call, full_name: str) -> dict:
        if unquote(full_name) not in self.schemas:
            raise Missing(f"Schema '{unquote(full_name)}' does not exist.")
        return self.schemas[unquote(full_name)]

    def create_volume(self, call: Call) -> dict:
        body = call.body
        full_name = f"{body['catalog_name']}.{body['schema_name']}.{body['name']}"
        if f"{body['catalog_name']}.{body['schema_name']}" not in self.schemas:
            raise Missing(f"Schema '{body['catalog_name']}.{body['schema_name']}' does not exist.")
        self.volumes[full_name] = {**body, "full_name": full_name, "owner": USER_NAME}
        return self.volumes[full_name]

    def get_volume(self, call: Call, full_name: str) -> dict:
        if unquote(full_name) not in self.volumes:
            raise Missing(f"Volume '{unquote(full_name)}' does not exist.")
        return self.volumes[unquote(full_name)]

    def telemetry(self, call: Call) -> dict:
        return {"errors": [], "numProtoSuccess": 1}


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", r"/\.well-known/databricks-config", Workspace.host_metadata),
    ("GET", r"/api/2\.0/preview/scim/v2/Me", Workspace.me),
    ("GET", r"/api/2\.0/workspace/get-status", Workspace.get_status),
    ("GET", r"/api/2\.0/workspace/list", Workspace.list_folder),
    ("GET", r"/api/2\.0/permissions/(directories|jobs)/(\d+)", Workspace.get_permissions),
    ("PUT", r"/api/2\.0/permissions/(directories|jobs)/(\d+)", Workspace.set_permissions),
    ("POST", r"/api/2\.0/workspace/mkdirs", Workspace.mkdirs),
    ("POST", r"/api/2\.0/workspace/delete", Workspace.delete),
    ("GET", r"/api/2\.0/workspace/export", Workspace.export),
    ("POST", r"/api/2\.0/workspace-files/import-file(/.+)", Workspace.import_file),
    ("GET", r"/api/2\.0/workspace-files(/.+)", Workspace.read_file),
    ("POST", r"/api/2\.2/jobs/create", Workspace.create_job),
    ("GET", r"/api/2\.2/jobs/get", Workspace.get_job),
    ("POST", r"/api/2\.2/jobs/reset", Workspace.reset_job),
    ("GET", r"/api/2\.2/jobs/runs/get", Workspace.get_run),
    ("POST", r"/api/2\.1/unity-catalog/schemas", Workspace.create_schema),
    ("GET", r"/api/2\.1/unity-catalog/schemas/([^/]+)", Workspace.get_schema),
    ("POST", r"/api/2\.1/unity-catalog/volumes", Workspace.create_volume),
    ("GET", r"/api/2\.1/unity-catalog/volumes/([^/]+)", Workspace.get_volume),
    ("POST", r"/telemetry-ext", Workspace.telemetry),
]


class _Handler(BaseHTTPRequestHandler):
    workspace: Workspace

    def _serve(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        is_upload = url.path.startswith("/api/2.0/workspace-files/import-file")
        body: Any = raw if is_upload else (json.loads(raw) if raw.strip() else None)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        call = Call(self.command, url.path, query, body)
        with self.workspace.lock:
            self.workspace.calls.append(call)
            status, answer = self.workspace.answer(call)
        payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/octet-stream" if isinstance(answer, bytes) else "application/json"
        )
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the recorded calls are the log


class WorkspaceStandIn:
    """`with WorkspaceStandIn() as workspace:` serves on `workspace.url` until the block ends."""

    def __init__(self, user_name: str = USER_NAME) -> None:
        self.workspace = Workspace(user_name=user_name)
        handler = type("Handler", (_Handler,), {"workspace": self.workspace})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.workspace.url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WorkspaceStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
