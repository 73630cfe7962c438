"""Independent lake work at once: Spark runs jobs submitted from several threads concurrently, so tables that do not
depend on each other need not wait for each other's commits. What it gains depends on the cores: on 2, a table's work
on small input is mostly the driver's CPU (planning and scheduling its jobs), and threads overlap only its waits (the
first demo's Silver 103 -> 85 s with its three tables at once; bench/RESULTS.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

# Threads that use the lake at once (Silver's tables, the export's tables, the upgrade check's reads): more only queue
# for the cores. Gold's builders, which wait for one another's shared results, take more (gold/runner.py).
CONCURRENT_TABLE_THREADS = 4


def run_at_once(
    tasks: Sequence[Task],
    work: Callable[[Task], Result],
    on_done: Callable[[Task, Result], None] | None = None,
    *,
    name: str,
    stop: threading.Event | None = None,
    threads: int | None = None,
) -> None:
    """Runs `work(task)` for every task on `threads` threads (CONCURRENT_TABLE_THREADS by default); `on_done(task,
    result)`, if given, runs on the calling thread as each finishes. The first failure cancels the tasks not started
    yet, sets `stop` (for work that runs several steps and can stop between them), and is raised once the running
    tasks have finished, so what they wrote is complete and reported."""
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=threads or CONCURRENT_TABLE_THREADS, thread_name_prefix=name) as pool:
        running: dict[Future, Task] = {pool.submit(work, task): task for task in tasks}
        for future in as_completed(running):
            try:
                result = future.result()
            except BaseException as exc:  # noqa: BLE001 - raised below, after the running tasks finish
                failure = failure or exc
                if stop is not None:
                    stop.set()
                for queued in running:
                    queued.cancel()
                continue
            if on_done is not None:
                on_done(running[future], result)
    if failure is not None:
        raise failure
