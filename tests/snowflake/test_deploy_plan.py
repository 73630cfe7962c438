"""The scripted deploy: its plan checked statically (order, roles, owners, analyst scope), then run on the local
warehouse with what cannot apply there skipped by a declared reason."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import sqlglot

from local_platform.s3.server import free_port
from local_platform.warehouse import apply_sql, deploy
from snowpark.energy_snowpark.reporting_views import VIEWS

VARIABLES = {**deploy.EXAMPLE_VARIABLES}
CREATES_OWNED_OBJECT = re.compile(
    r"^CREATE\s+(OR\s+REPLACE\s+)?(SCHEMA|STAGE|FILE FORMAT|TABLE|TASK|(AGGREGATE\s+)?FUNCTION|PROCEDURE|VIEW|"
    r"STREAMLIT)\b",
    re.IGNORECASE,
)


def plan_statements(native_app: bool = True) -> list[tuple[int, str, str]]:
    """(step number, role, statement or CLI command) in plan order, including what a CALL runs as its owner."""
    rows = []
    steps = list(deploy.steps(native_app))
    for number, step in enumerate(steps, start=1):
        if step.kind == "snow":
            rows.append((number, step.role, "snow " + step.target))
        for statement in [*deploy.statements(step, VARIABLES), *deploy.inner_statements(step, VARIABLES)]:
            rows.append((number, step.role, " ".join(statement.split())))
    # Every check below reads these rows: an empty plan, or a step that yields nothing, must not pass them.
    assert steps and {number for number, _, _ in rows} == set(range(1, len(steps) + 1)), "a deploy step is empty"
    return rows


def first(rows, pattern: str) -> int:
    return next(i for i, (_, _, text) in enumerate(rows) if re.search(pattern, text, re.IGNORECASE))


def test_roles_exist_before_anything_names_them():
    rows = plan_statements()
    for role in (deploy.ADMIN, deploy.ANALYST):
        creation = first(rows, rf"^CREATE ROLE IF NOT EXISTS {role}\b")
        uses = [i for i, (_, r, text) in enumerate(rows) if r == role or re.search(rf"\b{role}\b", text)]
        assert creation == min(uses), role


def test_accountadmin_only_for_the_storage_integration():
    accountadmin = [text for _, role, text in plan_statements() if role == "ACCOUNTADMIN"]
    assert accountadmin and all(
        re.search(r"INTEGRATION (IF NOT EXISTS )?ENERGY_EXPORT_INTEGRATION", t) for t in accountadmin
    )
    integration = [role for _, role, text in plan_statements() if text.startswith("CREATE STORAGE INTEGRATION")]
    assert integration == ["ACCOUNTADMIN"]


def test_everything_that_runs_is_created_by_energy_admin():
    rows = plan_statements()
    created = [(role, text) for _, role, text in rows if CREATES_OWNED_OBJECT.match(text)]
    assert {role for role, _ in created} == {deploy.ADMIN}
    kinds = {CREATES_OWNED_OBJECT.match(text).group(2).upper() for _, text in created}
    assert kinds >= {"SCHEMA", "STAGE", "FILE FORMAT", "TABLE", "TASK", "AGGREGATE FUNCTION", "VIEW"}
    # procedures, scalar functions and the Streamlit come from the CLI, run as ENERGY_ADMIN
    cli = {text: role for _, role, text in rows if text.startswith("snow ")}
    for command in (
        "snow snowpark deploy --replace",
        "snow streamlit deploy energy_dashboard --replace",
        "snow app run",
    ):
        assert cli[command] == deploy.ADMIN, command
    ownership = [text for _, _, text in rows if text.startswith("GRANT OWNERSHIP")]
    assert ownership == ["GRANT OWNERSHIP ON DATABASE ENERGY TO ROLE ENERGY_ADMIN COPY CURRENT GRANTS"]


def test_order_execute_task_before_resume_views_at_deploy_with_copy_grants():
    rows = plan_statements()
    assert first(rows, r"^GRANT EXECUTE TASK ON ACCOUNT TO ROLE ENERGY_ADMIN") < first(rows, r"^ALTER TASK .* RESUME")
    assert first(rows, r"^CREATE TASK") < first(rows, r"^ALTER TASK .* RESUME")
    build = first(rows, r"^CALL ENERGY\.CURATED\.BUILD_REPORTING_VIEWS\('ENERGY'\)")
    assert first(rows, r"^snow snowpark deploy") < build < first(rows, r"^snow streamlit deploy")
    assert first(rows, r"CREATE TABLE IF NOT EXISTS ENERGY\.CURATED\.LOAD_HISTORY") < build
    assert first(rows, r"^CREATE STORAGE INTEGRATION") < first(rows, r"^CREATE STAGE")
    assert first(rows, r"^CREATE DATABASE") < first(rows, r"^CREATE SCHEMA")
    views = [text for _, _, text in rows if text.startswith("CREATE OR REPLACE VIEW")]
    assert len(views) == len(VIEWS) and all(" COPY GRANTS AS " in text for text in views)
    assert first(rows, r"^snow app run") < first(rows, r"register_reference") < first(rows, r"APPLICATION ROLE")


ANALYST_GRANTS = re.compile(
    r"^GRANT (USAGE ON DATABASE ENERGY|USAGE ON SCHEMA ENERGY\.(REPORTING|APP)|"
    r"(SELECT|USAGE) ON (ALL|FUTURE) (VIEWS|FUNCTIONS) IN SCHEMA ENERGY\.REPORTING|"
    r"USAGE ON (ALL|FUTURE) STREAMLITS IN SCHEMA ENERGY\.APP|USAGE ON WAREHOUSE COMPUTE_WH|"
    r"APPLICATION ROLE ENERGY_APP\.app_public) TO ROLE ENERGY_ANALYST$"
)


def test_analyst_role_reaches_reporting_and_the_app_only():
    grants = [text for _, _, text in plan_statements() if re.search(r"TO ROLE ENERGY_ANALYST$", text)]
    assert len(grants) == 11
    for grant in grants:
        assert ANALYST_GRANTS.match(grant), grant
        assert "CURATED" not in grant
    assert not any(re.search(r"ROLE ENERGY_ADMIN TO ROLE ENERGY_ANALYST", text) for _, _, text in plan_statements())


def test_sql_files_use_the_current_template_syntax_and_every_variable_is_known():
    files = [*apply_sql.sql_files(), *(apply_sql.SQL_DIR / "native_app").glob("*.sql")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "&{" not in text, path.name
        assert set(apply_sql.VARIABLE.findall(text)) <= set(VARIABLES), path.name
    planned = {step.target for step in deploy.PLAN if step.kind == "sql"}
    assert planned and planned == {str(p.relative_to(apply_sql.SQL_DIR)) for p in files if p.name != "setup_script.sql"}


def test_every_planned_statement_parses_with_the_snowflake_dialect():
    parsed_steps = set()
    for number, _, text in plan_statements():
        if not text.startswith("snow "):
            sqlglot.parse_one(text, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
            parsed_steps.add(number)
    sql_steps = {n for n, step in enumerate(deploy.steps(True), start=1) if step.kind != "snow"}
    assert sql_steps and parsed_steps == sql_steps


def test_cli_commands_run_each_step_as_its_role():
    commands = deploy.commands(VARIABLES, "prod", native_app=True)
    connected = [c for c in commands if "--connection" in c]
    assert len(connected) == len(commands) - 1  # `snow snowpark build` packages offline
    roles = [c[c.index("--role") + 1] for c in connected]
    assert roles[0] == "SECURITYADMIN" and "ACCOUNTADMIN" in roles
    sql_files = [c[c.index("-f") + 1] for c in commands if "-f" in c]
    assert [p.rsplit("sql/", 1)[1] for p in sql_files] == [s.target for s in deploy.PLAN if s.kind == "sql"]
    for command in commands:
        if "-f" in command:
            assert f"database={VARIABLES['database']}" in command and "-D" in command
    with pytest.raises(ValueError, match=r"deploy variables missing: \['export_url', 'aws_role_arn'\]"):
        deploy.commands({"database": "ENERGY", "warehouse": "WH"}, "prod")


def test_dry_run_prints_every_statement_with_its_role():
    result = subprocess.run(
        [sys.executable, "-m", "local_platform.cli", "deploy", "--dry-run", "--native-app", "-c", "prod"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if not line.startswith("-- ")]
    assert len(lines) == len(plan_statements())
    for line, (_, role, text) in zip(lines, plan_statements(), strict=True):
        assert line.startswith(f"[{role}") and text in line, (line, text)


@pytest.mark.server
def test_the_plan_runs_on_the_local_warehouse_with_declared_skips(tmp_path):
    from local_platform.warehouse import control, runner

    settings = control.WarehouseSettings(
        state_dir=tmp_path / "warehouse", port=free_port(), data_dirs=(tmp_path / "export",)
    )
    control.start(settings)
    try:
        results = runner.apply(settings, str(tmp_path / "export"))
        with control.session(settings) as session:
            views = {r["name"] for r in session.sql("SHOW VIEWS IN SCHEMA ENERGY.REPORTING").collect()}
            empty = session.sql("SELECT COUNT(*) FROM ENERGY.REPORTING.DAILY_DEMAND").collect()[0][0]
    finally:
        control.stop(settings)
    assert views == set(VIEWS) and empty == 0
    for result in results:
        if result.file == "snow":
            assert result.skipped_reason == deploy.LOCAL_STEP_SKIPS["snow"]
        else:
            assert result.skipped_reason == apply_sql.skip_reason(result.statement), result.summary
    skipped = {" ".join(r.statement.split()[:2]) for r in results if r.skipped_reason and r.file != "snow"}
    assert skipped == {"CREATE ROLE", "GRANT ROLE", "GRANT USAGE,", "GRANT USAGE", "GRANT EXECUTE", "GRANT OWNERSHIP",
                       "CREATE STORAGE", "CREATE OR", "CREATE TASK", "ALTER TASK", "GRANT SELECT"}  # fmt: skip
    ran = [r for r in results if not r.skipped_reason]
    assert [r.file for r in ran if r.file == "BUILD_REPORTING_VIEWS"] == ["BUILD_REPORTING_VIEWS"]
