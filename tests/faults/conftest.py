"""Fault tests start real processes (pipeline, warehouse server) and kill them; helpers to do that cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def kill_process_tree(process: subprocess.Popen) -> None:
    """SIGKILL the process group started with start_new_session=True, then reap the child."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def kill_pid(pid: int) -> None:
    """SIGKILL a server this test process started, and reap it so its pid does not linger as a zombie."""
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
