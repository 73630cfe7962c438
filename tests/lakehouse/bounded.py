"""Run a risky call in a child Python with a time and address-space limit: a bomb that gets through fails its test
(killed, or out of memory) instead of taking the test run down."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Bounded:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_bounded(code: str, *, seconds: float = 120, memory_bytes: int = 2 << 30) -> Bounded:
    """`python -c code` in the repository, killed after `seconds`, its address space capped at `memory_bytes`."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=seconds,
            cwd=REPO,
            env=env,
            preexec_fn=limit,  # noqa: PLW1509 - the child runs no threads before exec
        )
    except subprocess.TimeoutExpired as timeout:
        return Bounded(-9, str(timeout.stdout or ""), f"timed out after {seconds} s", time.monotonic() - started)
    return Bounded(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
