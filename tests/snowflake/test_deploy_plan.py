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
    r"^CREATE\s+(OR\s+(?:REPLACE|ALTER)\s+)?(SCHEMA|STAGE|FILE FORMAT|TABLE|TASK|(AGGREGATE\s+)?FUNCTION|PROCEDURE|"
    r"VIEW|STREAMLIT)\b",
    re.IGNORECASE,
)


def plan_statements(native_app: bool = True) -> list[tuple[int, str, str]]:
    """(step number, role, statement or CLI command) in plan order, including what a CALL runs as its owner."""
    rows = []
    steps = list(deploy.steps(native_app))
    for number, step in enumerate(steps, start=1):
        role = deploy.role_name(step, VARIABLES)
        if step.kind == "snow":
            rows.append((number, role, "snow " + step.target))
        for statement in [*deploy.statements(step, VARIABLES), *deploy.inner_statements(step, VARIABLES)]:
            rows.append((number, role, " ".join(statement.split())))
    # Every check below reads these rows: an empty plan, or a step that yields nothing, must not pass them.
    assert steps and {number for number, _, _ in rows} == set(range(1, len(steps) + 1)), "a deploy step is empty"
    return rows


def first(rows, pattern: str) -> int:
    return next(i for i, (_, _, text) in enumerate(rows) if re.search(pattern, text, re.IGNORECASE))


def test_roles_exist_before_anything_names_them():
    rows = plan_statements()
    for role in ("ENERGY_ADMIN", "ENERGY_ANALYST"):
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
    assert {role for role, _ in created} == {"ENERGY_ADMIN"}
    kinds = {CREATES_OWNED_OBJECT.match(text).group(2).upper() for _, text in created}
    assert kinds >= {"SCHEMA", "STAGE", "FILE FORMAT", "TABLE", "TASK", "AGGREGATE FUNCTION", "VIEW"}
    # procedures, scalar functions and the Streamlit come from the CLI, run as ENERGY_ADMIN
    cli = {text: role for _, role, text in rows if text.startswith("snow ")}
    for command in (
        "snow snowpark deploy --replace",
        "snow streamlit deploy energy_dashboard --replace",
        "snow app run",
    ):
        assert cli[command] == "ENERGY_ADMIN", command
    ownership = [text for _, _, text in rows if text.startswith("GRANT OWNERSHIP")]
    assert ownership == ["GRANT OWNERSHIP ON DATABASE ENERGY TO ROLE ENERGY_ADMIN COPY CURRENT GRANTS"]


def test_order_execute_task_before_resume_views_at_deploy_with_copy_grants():
    rows = plan_statements()
    assert first(rows, r"^GRANT EXECUTE TASK ON ACCOUNT TO ROLE ENERGY_ADMIN") < first(rows, r"^ALTER TASK .* RESUME")
    assert first(rows, r"^ALTER TASK IF EXISTS .* SUSPEND") < first(rows, r"^CREATE OR ALTER TASK")
    assert first(rows, r"^CREATE OR ALTER TASK") < first(rows, r"^ALTER TASK \S+ RESUME")
    build = first(rows, r"^CALL ENERGY\.CURATED\.BUILD_REPORTING_VIEWS\('ENERGY'\)")
    assert first(rows, r"^snow snowpark deploy") < build < first(rows, r"^snow streamlit deploy")
    assert first(rows, r"CREATE TABLE IF NOT EXISTS ENERGY\.CURATED\.LOAD_HISTORY") < build
    assert first(rows, r"^CREATE STORAGE INTEGRATION") < first(rows, r"^CREATE OR ALTER STAGE")
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
    assert all(c[c.index("--warehouse") + 1] == "COMPUTE_WH" for c in connected)  # never the connection's default
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
                       "CREATE STORAGE", "ALTER STORAGE", "CREATE OR", "ALTER TASK", "GRANT SELECT"}  # fmt: skip
    ran = [r for r in results if not r.skipped_reason]
    assert [r.file for r in ran if r.file == "BUILD_REPORTING_VIEWS"] == ["BUILD_REPORTING_VIEWS"]


DEFAULT_NAME = re.compile(r"\b(" + "|".join(deploy.DEFAULT_NAMES.values()) + r")\b")


def test_a_deploy_under_other_names_names_no_default_anywhere(other_names, other_names_env):
    """Issue 20: database, warehouse and roles reach every statement and every CLI command, and every `snow` command
    carries them as --env values for snowflake.yml and runs on the given warehouse."""
    variables = {**deploy.EXAMPLE_VARIABLES, **other_names}
    printed = list(deploy.dry_run(variables, native_app=True, connection="prod"))
    commands = deploy.commands(variables, "prod", native_app=True)
    text = "\n".join([*printed, *(" ".join(c) for c in commands)])
    assert not DEFAULT_NAME.findall(text), sorted(set(DEFAULT_NAME.findall(text)))
    snow = [c for c in commands if c[1] != "sql"]
    assert [c[1] for c in snow] == ["snowpark", "snowpark", "streamlit", "app"]
    for command in snow:
        assert " ".join(other_names_env) in " ".join(command), command
    for command in commands:
        if "--connection" in command:
            assert command[command.index("--warehouse") + 1] == "OTHER_WH", command
    assert "CALL OTHERDB.CURATED.BUILD_REPORTING_VIEWS('OTHERDB')" in text
    assert "GRANT USAGE, OPERATE ON WAREHOUSE OTHER_WH TO ROLE OTHER_ADMIN" in text
    assert (
        "CALL OTHER_APP.config.register_reference('regions', 'ADD', SYSTEM$REFERENCE('VIEW', 'OTHERDB.REPORTING."
        in text
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("database", "my-db"),
        ("warehouse", 'WH"; DROP DATABASE ENERGY; --'),
        ("admin_role", "ENERGY.ADMIN"),
        ("app", ""),
        ("export_url", "s3://bucket/prefix/'); DROP STAGE x; --"),
        ("export_url", "s3://bucket/no-trailing-slash"),
        ("aws_role_arn", "arn:aws:iam::1:user/someone"),
    ],
)
def test_values_the_deploy_cannot_honour_are_refused(name, value):
    variables = {**deploy.EXAMPLE_VARIABLES, name: value}
    with pytest.raises(ValueError, match=name):
        deploy.commands(variables, "prod")
    result = subprocess.run(
        [sys.executable, "-m", "local_platform.cli", "deploy", "--dry-run", "-D", f"{name}={value}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and name in result.stdout


def test_a_re_deploy_applies_every_changed_setting_in_the_plan():
    """CREATE ... IF NOT EXISTS would keep the first deploy's URL, locations, warehouse and schedule: each object the
    plan makes is created or altered to the given definition."""
    first = {**deploy.EXAMPLE_VARIABLES}
    second = {**first, "export_url": "s3://new-bucket/export-v2/", "warehouse": "NEW_WH",
              "aws_role_arn": "arn:aws:iam::123456789012:role/new-reader"}  # fmt: skip
    planned = [line for line in deploy.dry_run(second) if not line.startswith("-- ")]
    integration = [line for line in planned if "ALTER STORAGE INTEGRATION ENERGY_EXPORT_INTEGRATION SET" in line]
    assert len(integration) == 1
    assert "STORAGE_ALLOWED_LOCATIONS = ('s3://new-bucket/export-v2/')" in integration[0]
    assert "STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/new-reader'" in integration[0]
    task = next(line for line in planned if "CREATE OR ALTER TASK" in line)
    assert "WAREHOUSE = NEW_WH" in task and "SCHEDULE = 'USING CRON 0 6 * * * UTC'" in task
    stage = next(line for line in planned if "CREATE OR ALTER STAGE" in line)
    assert "URL = 's3://new-bucket/export-v2/'" in stage
    assert "FILE_FORMAT = (FORMAT_NAME = 'ENERGY.CURATED.EXPORT_PARQUET')" in stage  # the documented grammar
    keeps_old = re.compile(r"CREATE (STAGE|FILE FORMAT|TASK) IF NOT EXISTS", re.IGNORECASE)
    assert not [line for line in planned if keeps_old.search(line)]
    assert sum("CREATE OR ALTER FILE FORMAT" in line for line in planned) == 3


def test_the_refresh_task_loads_and_views_are_built_at_deploy_only():
    rows = plan_statements()
    task = next(text for _, _, text in rows if text.startswith("CREATE OR ALTER TASK"))
    assert "CALL ENERGY.CURATED.REFRESH_REPORTING(" in task
    assert [i for i, (_, _, text) in enumerate(rows) if "BUILD_REPORTING_VIEWS" in text] == [
        first(rows, r"^CALL ENERGY\.CURATED\.BUILD_REPORTING_VIEWS")
    ]


@pytest.mark.server
def test_a_re_deploy_on_the_local_warehouse_moves_the_stage(tmp_path):
    from local_platform.warehouse import control, runner

    # The local warehouse reads only the export folders it was started with (docs/security.md).
    exports = (tmp_path / "export-v1", tmp_path / "export-v2")
    settings = control.WarehouseSettings(state_dir=tmp_path / "warehouse", port=free_port(), data_dirs=exports)
    control.start(settings)
    try:
        runner.apply(settings, str(tmp_path / "export-v1"))
        runner.apply(settings, str(tmp_path / "export-v2"))
        with control.session(settings) as session:
            urls = [r["url"] for r in session.sql("SHOW STAGES IN SCHEMA ENERGY.CURATED").collect()]
            formats = [r["name"] for r in session.sql("SHOW FILE FORMATS IN SCHEMA ENERGY.CURATED").collect()]
            lock = session.sql("SELECT LOCK_NAME FROM ENERGY.CURATED.LOAD_LOCK").collect()
    finally:
        control.stop(settings)
    assert urls == [(tmp_path / "export-v2").resolve().as_uri() + "/"]
    assert sorted(formats) == ["EXPORT_JSON", "EXPORT_PARQUET", "EXPORT_TEXT"]
    assert [tuple(r) for r in lock] == [("LOAD",)]  # one lock row, however often the deploy runs
