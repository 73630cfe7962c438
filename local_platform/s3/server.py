"""A moto S3 API server on 127.0.0.1, run as its own process so every client (boto3, Spark's s3a, subprocesses)
reaches it over HTTP exactly as it would reach AWS. Data lives in the server's memory until it stops.

Only moto's S3 service is served (`python -m local_platform.s3.server --port N`): `python -m moto.server` would
answer for every AWS service moto emulates (IAM, STS, SQS, ...), a wider surface than the platform uses.

moto accepts unsigned requests, so a web page the user opens could write into the buckets with a cross-origin form
POST (S3's browser upload), which a browser sends without asking. SDKs (boto3, s3a) send no Origin, use no form
encodings and name the loopback host, so the server refuses what only a browser sends (docs/security.md): a request
with an Origin other than its own, a POST with a form or text/plain body, and a Host other than localhost/127.0.0.1.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType
from xml.sax.saxutils import escape

from local_platform.s3.settings import S3Settings

# moto accepts any key pair; these placeholders exist only so SDKs sign requests to the loopback server.
LOCAL_ACCESS_KEY_ID = "local-moto-access-key"
LOCAL_SECRET_ACCESS_KEY = "local-moto-secret-key"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MotoS3Server:
    """Start with `with MotoS3Server() as server:`; `server.settings(base)` points S3Settings at it."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, start_timeout_s: float = 30.0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.start_timeout_s = start_timeout_s
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def settings(self, base: S3Settings | None = None) -> S3Settings:
        return (base or S3Settings.from_env()).with_endpoint(
            self.endpoint_url, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY
        )

    def start(self) -> MotoS3Server:
        cmd = [sys.executable, "-m", "local_platform.s3.server", "--host", self.host, "--port", str(self.port)]
        # The server logs every request; into a pipe nobody drains it would block once the pipe's 64 KiB fill up,
        # and every S3 call after that would hang (seen as 60 s s3a timeouts mid-export). A file never fills.
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto S3 server on {self.endpoint_url} exited at start: {self.log_tail()}")
            if self._is_up():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto S3 server on {self.endpoint_url} did not answer within {self.start_timeout_s} s")

    def _is_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=1):  # S3 ListBuckets
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's own log (requests and errors), for error messages."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-chars:]

    def __enter__(self) -> MotoS3Server:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


LOCAL_HOSTS = ("localhost", "127.0.0.1")
# The encodings an HTML form (or a fetch without a CORS preflight) can send; S3's own API uses none of them.
FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")


def browser_refusal(environ: dict, port: int) -> str | None:
    """Why a request is refused as coming from a browser page rather than an S3 client, or None."""
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]").lower()
    if host not in LOCAL_HOSTS:
        return f"Host {host!r} is not this local server"
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and origin.rstrip("/") not in {f"http://{h}:{port}" for h in LOCAL_HOSTS}:
        return f"cross-origin request from {origin!r}"
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if environ.get("REQUEST_METHOD") == "POST" and content_type in FORM_CONTENT_TYPES:
        return f"form POST ({content_type})"
    return None


def refusing_browsers(app, port: int):
    """WSGI middleware: an S3 AccessDenied for what only a browser page sends, before moto sees the request."""

    def guarded(environ, start_response):
        reason = browser_refusal(environ, port)
        if reason is None:
            return app(environ, start_response)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            f"<Message>the local S3 stand-in refuses this request: {escape(reason)}</Message></Error>"
        ).encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]

    return guarded


def serve_s3_only(host: str, port: int) -> None:
    """Serve moto's S3 backend alone (moto.server's dispatcher would route to every service by request shape)."""
    from moto.moto_server.werkzeug_app import create_backend_app
    from werkzeug.serving import run_simple

    run_simple(host, port, refusing_browsers(create_backend_app("s3"), port), threaded=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto's S3 service alone, on a loopback port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve_s3_only(args.host, args.port)


if __name__ == "__main__":
    main()
