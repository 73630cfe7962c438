"""The demo's live status line: drawn under the log on a terminal, cleared before every line of output, absent
when the output is not a terminal. A StringIO stands in for the terminal and a function for Spark's tracker."""

from __future__ import annotations

import io
import os
import re
import select
import sys
import time

from local_platform.live_status import CLEAR_LINE, LiveStatus, live_status


def test_the_status_names_the_running_step_and_sparks_tasks_and_log_lines_never_mix_with_it():
    terminal = io.StringIO()
    spark = iter([None, "Spark 3/8 tasks"])
    status = LiveStatus(terminal, spark_status=lambda: next(spark))
    status.draw()
    assert terminal.getvalue() == ""  # no step has started yet

    print("[2/5] lakehouse pipeline ...", file=status)
    status.draw()  # the JVM is starting: no SparkContext, the step's time alone
    print("    [silver] started", file=status)
    status.draw()
    print("      silver ercot_native_load (demand): 1 file, 9 rows in -> 9 kept, 0 quarantined, 0.1 s", file=status)
    status.stop()

    assert terminal.getvalue() == (
        "[2/5] lakehouse pipeline ...\n"
        f"{CLEAR_LINE}  ... lakehouse pipeline 0 s{CLEAR_LINE}"
        "    [silver] started\n"
        f"{CLEAR_LINE}  ... silver 0 s | Spark 3/8 tasks{CLEAR_LINE}"
        "      silver ercot_native_load (demand): 1 file, 9 rows in -> 9 kept, 0 quarantined, 0.1 s\n"
    )


def test_the_status_waits_for_a_line_to_end_and_a_failing_tracker_leaves_the_time():
    terminal = io.StringIO()
    status = LiveStatus(terminal, spark_status=lambda: 1 / 0)
    status.write("[bronze] started\nhalf a line")
    status.draw()
    assert terminal.getvalue() == "[bronze] started\nhalf a line"
    status.write("\n")
    status.draw()
    assert terminal.getvalue().endswith(f"half a line\n{CLEAR_LINE}  ... bronze 0 s")


def test_on_a_terminal_stdout_goes_through_the_status_and_the_ticker_draws_it():
    controller, device = os.openpty()
    with os.fdopen(device, "w") as stream:
        with live_status(stream) as status:
            assert isinstance(sys.stdout, LiveStatus) and status is sys.stdout
            print("[bronze] started")
            time.sleep(1.2)  # ticks of the ticker thread, every 0.5 s
            print("  bronze ercot_native_load: 1 file ingested, 8,760 rows, 1.1 s")
        assert not isinstance(sys.stdout, LiveStatus)
    shown = _read_all(controller).replace("\r\n", "\n")  # the terminal turns each newline into CR LF
    assert shown.startswith("[bronze] started\n") and re.search(rf"{re.escape(CLEAR_LINE)}  \.\.\. bronze \d s", shown)
    assert shown.endswith(f"{CLEAR_LINE}  bronze ercot_native_load: 1 file ingested, 8,760 rows, 1.1 s\n")


def _read_all(descriptor: int) -> str:
    chunks = []
    while select.select([descriptor], [], [], 0.2)[0]:
        try:
            chunks.append(os.read(descriptor, 65536))
        except OSError:  # Linux: EIO once the terminal side is closed and all is read
            break
    os.close(descriptor)
    return b"".join(chunks).decode()


def test_output_that_is_not_a_terminal_is_left_alone(capsys):
    with live_status() as status:
        print("[bronze] started")
        assert status is None and not isinstance(sys.stdout, LiveStatus)
    assert capsys.readouterr().out == "[bronze] started\n"
