"""A live status line under the demo's log on a terminal: the running step, its elapsed time and Spark's task counts.

A stage such as Silver on the synthetic utility runs for a minute between two log lines; this line, rewritten in
place every half second, shows it is moving. Only on a terminal: piped or captured output gets the log lines alone.
Local only - it reads the local SparkContext's status tracker, which Spark Connect (Databricks) does not have.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from typing import TextIO

# A line that starts a step: the flow's "[2/5] lakehouse pipeline ..." or the pipeline's "[silver] started".
STEP_STARTED = re.compile(r"^\s*\[([^\]]+)\] (?:started|(.+) \.\.\.)$")
CLEAR_LINE = "\r\x1b[K"


def spark_task_status() -> str | None:
    """'Spark 14/32 tasks' over the running stages of the local session, or None when no stage runs."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return None
    tracker = context.statusTracker()
    stages = [s for s in (tracker.getStageInfo(i) for i in tracker.getActiveStageIds()) if s is not None]
    if not stages:
        return None
    done, total = sum(s.numCompletedTasks for s in stages), sum(s.numTasks for s in stages)
    return f"Spark {done}/{total} tasks"


class LiveStatus:
    """Writes go through `write` (it stands in for sys.stdout): the status line is cleared before any output and
    drawn again on the next tick, so log lines scroll above it and never mix with it."""

    def __init__(
        self,
        terminal: TextIO,
        spark_status: Callable[[], str | None] = spark_task_status,
        interval_s: float = 0.5,
    ) -> None:
        self._terminal = terminal
        self._spark_status = spark_status
        self._interval_s = interval_s
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._step: tuple[str, float] | None = None
        self._shown = False  # the status line is on the screen
        self._at_line_start = True  # the last output ended its line: drawing the status cannot split a line

    def write(self, text: str) -> int:
        with self._lock:
            self._hide()
            for line in text.splitlines():
                match = STEP_STARTED.match(line)
                if match:
                    self._step = (match.group(2) or match.group(1), time.monotonic())
            written = self._terminal.write(text)
            if text:
                self._at_line_start = text.endswith("\n")
            self._terminal.flush()
            return written

    def flush(self) -> None:
        self._terminal.flush()

    # What callers ask of sys.stdout besides writing.
    def isatty(self) -> bool:
        return self._terminal.isatty()

    def fileno(self) -> int:
        return self._terminal.fileno()

    @property
    def encoding(self) -> str:
        return self._terminal.encoding

    def status_text(self) -> str | None:
        """'  ... silver 34 s | Spark 14/32 tasks' for the running step, None before the first step."""
        if self._step is None:
            return None
        name, started = self._step
        try:
            spark = self._spark_status()
        except Exception:  # the session is starting or stopping: the step's time alone is still true
            spark = None
        text = f"  ... {name} {time.monotonic() - started:.0f} s"
        return f"{text} | {spark}" if spark else text

    def draw(self) -> None:
        with self._lock:
            text = self.status_text()
            if text is None or not self._at_line_start:
                return
            self._terminal.write(CLEAR_LINE + text)
            self._terminal.flush()
            self._shown = True

    def _hide(self) -> None:
        if self._shown:
            self._terminal.write(CLEAR_LINE)
            self._shown = False

    def run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.draw()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._hide()
            self._terminal.flush()


@contextmanager
def live_status(stream: TextIO | None = None) -> Iterator[LiveStatus | None]:
    """Inside the block, sys.stdout goes through a LiveStatus on `stream` (default: the current sys.stdout) if it is
    a terminal; otherwise nothing changes and None is yielded."""
    stream = stream or sys.stdout
    if not stream.isatty():
        yield None
        return
    stream.flush()
    # A descriptor of its own: while the local JVM starts, descriptor 1 points at the JVM's log file
    # (spark_session.process_output_to), and the status line must stay on the terminal meanwhile.
    with os.fdopen(os.dup(stream.fileno()), "w", encoding=stream.encoding, errors="replace") as terminal:
        status = LiveStatus(terminal)
        ticker = threading.Thread(target=status.run, name="live-status", daemon=True)
        ticker.start()
        try:
            with redirect_stdout(status):
                yield status
        finally:
            status.stop()
            ticker.join(timeout=5)
