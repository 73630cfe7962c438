"""The pipeline's command line and batch ids (no Spark needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from databricks_jobs.batch import BATCH_ID_PATTERN, batch_id_for_run, new_batch_id
from databricks_jobs.jobs.common import batch_id_from, task_parser
from databricks_jobs.jobs.pipeline import run_pipeline
from databricks_jobs.settings import LakeSettings
from local_platform.cli import build_parser


def test_new_batch_ids_follow_the_contract_and_differ():
    moment = datetime(2026, 11, 25, 20, 15, 0, tzinfo=UTC)
    first, second = new_batch_id(moment), new_batch_id(moment)
    assert first.startswith("20261125T201500Z-") and BATCH_ID_PATTERN.match(first) and first != second


def test_every_task_of_a_databricks_run_gets_the_same_batch_id():
    # 1795637700000 ms = 2026-11-25 20:15:00 UTC
    assert batch_id_for_run(1795637700000, "42") == batch_id_for_run(1795637700000, "42")
    assert batch_id_for_run(1795637700000, "42").startswith("20261125T201500Z-")
    assert batch_id_for_run(1795637700000, "42") != batch_id_for_run(1795637700000, "43")


def test_a_malformed_batch_id_is_refused_with_the_expected_form():
    args = task_parser("t").parse_args(["--batch-id", "yesterday"])
    with pytest.raises(ValueError, match="'yesterday' is not of the form 20261125T201500Z-3f9a1c2b"):
        batch_id_from(args)


def test_unknown_stage_is_refused_before_spark_starts():
    with pytest.raises(ValueError, match=r"unknown stages \['silverr'\]"):
        run_pipeline(LakeSettings(), stages=("silverr",))


def test_pipeline_subcommand_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["pipeline", "--help"])
    text = capsys.readouterr().out
    for option in ("--batch-id", "--raw-root", "--lake-root", "--export-root", "--source", "--full-refresh", "--stage"):
        assert option in text
    assert "s3a://" in text and "/Volumes/" in text


def test_a_stage_runs_only_when_chosen_and_a_failing_one_is_recorded_and_stops_the_run():
    from databricks_jobs.jobs.pipeline import PipelineReport, _run_stage

    report, lines, calls = PipelineReport("b", LakeSettings()), [], []

    def works(value, log):
        calls.append(value)
        return value, f"ran {value}", ["one file refused"]

    def fails(value, log):
        raise RuntimeError("disk full")

    _run_stage(report, ("silver",), lines.append, "bronze", works, 1)
    _run_stage(report, ("silver",), lines.append, "silver", works, 2)
    with pytest.raises(RuntimeError, match="disk full"):
        _run_stage(report, ("silver", "gold"), lines.append, "gold", fails, 3)
    assert calls == [2] and [s.stage for s in report.steps] == ["silver", "gold"]
    assert report.step("silver").result == 2 and report.problems == ["one file refused"]
    assert report.step("gold").summary == "FAILED: disk full"
    assert report.error.startswith("gold failed after") and report.error.endswith("RuntimeError: disk full")
    assert lines[0] == "[silver] started" and lines[1].startswith("[silver] done in") and lines[1].endswith("ran 2")
    assert lines[2] == "[silver] problem: one file refused" and lines[-1] == f"[gold] {report.error}"
