"""The Snowflake deploy as one ordered plan: every step names the role it runs as and why it comes where it does.

The same plan is printed (`energy-platform deploy --dry-run`), run against an account through the Snowflake CLI
(`snow sql -f FILE --role ROLE -D ...`, `snow snowpark deploy`, `snow streamlit deploy`, `snow app run`), and run
on the local warehouse (`run_locally`), where what cannot apply is skipped by a declared reason.

Order and owners, each for a Snowflake rule:
- roles first (SECURITYADMIN), so every owner and grant below names an existing role;
- ACCOUNTADMIN only for the storage integration (it needs CREATE INTEGRATION);
- everything that runs is created by ENERGY_ADMIN and so owned by it: owner's-rights procedures run with their
  owner's privileges, and a task runs as its owner;
- EXECUTE TASK is granted (00_roles) before ALTER TASK ... RESUME (08);
- the reporting views are built at deploy, on the empty curated tables, so the app opens on "no data yet";
- future grants run as SECURITYADMIN (MANAGE GRANTS).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_platform.warehouse import apply_sql
from snowpark.energy_snowpark.reporting_views import view_statements

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_ROOT / "sql" / "native_app" / "manifest.yml"
ADMIN = "ENERGY_ADMIN"
ANALYST = "ENERGY_ANALYST"
REQUIRED_VARIABLES = ("database", "warehouse", "export_url", "aws_role_arn")
EXAMPLE_VARIABLES = {  # placeholders for a dry run; a real deploy needs every value given
    "database": "ENERGY",
    "warehouse": "COMPUTE_WH",
    "export_url": "s3://YOUR-BUCKET/gold-export/",
    "aws_role_arn": "arn:aws:iam::YOUR-ACCOUNT-ID:role/YOUR-SNOWFLAKE-READER",
    "app": "ENERGY_APP",
}


@dataclass(frozen=True)
class Step:
    """kind: `sql` (a file of sql/), `call` (a procedure), `snow` (Snowflake CLI arguments)."""

    role: str
    kind: str
    target: str
    why: str
    native_app: bool = False


PLAN: tuple[Step, ...] = (
    Step("SECURITYADMIN", "sql", "00_roles.sql", "roles, warehouse use and EXECUTE TASK before anything names them"),
    Step("SYSADMIN", "sql", "01_database.sql", "CREATE DATABASE, then ownership to ENERGY_ADMIN"),
    Step("ACCOUNTADMIN", "sql", "02_storage_integration.sql", "the one step that needs CREATE INTEGRATION"),
    Step(ADMIN, "sql", "03_schemas.sql", "schemas owned by ENERGY_ADMIN"),
    Step(ADMIN, "sql", "04_stage_and_file_formats.sql", "stage (USAGE on the integration) and file formats"),
    Step(ADMIN, "sql", "05_curated_tables.sql", "curated tables, generated from the Gold contracts"),
    Step(ADMIN, "sql", "06_load_history.sql", "the load's audit table"),
    Step(ADMIN, "snow", "snowpark build --ignore-anaconda", "package snowpark/ (no connection needed)"),
    Step(ADMIN, "snow", "snowpark deploy --replace", "procedures and UDFs, owned by ENERGY_ADMIN"),
    Step(ADMIN, "sql", "07_load_factor_aggregate.sql", "the UDAF, from the code stage the deploy filled"),
    Step(ADMIN, "call", "BUILD_REPORTING_VIEWS", "views on the empty tables: the app opens on 'no data yet'"),
    Step(ADMIN, "sql", "08_refresh_task.sql", "task owned by ENERGY_ADMIN; resumes: EXECUTE TASK granted in 00"),
    Step(ADMIN, "snow", "streamlit deploy energy_dashboard --replace", "the app, owned by ENERGY_ADMIN"),
    Step("SECURITYADMIN", "sql", "09_analyst_grants.sql", "ENERGY_ANALYST: REPORTING and the app only"),
    Step("SECURITYADMIN", "sql", "native_app/privileges.sql", "CREATE APPLICATION [PACKAGE]", native_app=True),
    Step(ADMIN, "snow", "app run", "application package and application, owned by ENERGY_ADMIN", native_app=True),
    Step(ADMIN, "call", "BIND_REFERENCES", "bind every reference of manifest.yml to its view", native_app=True),
    Step(ADMIN, "sql", "native_app/analyst_access.sql", "the app's app_public role to analysts", native_app=True),
)


def steps(native_app: bool = False) -> list[Step]:
    return [step for step in PLAN if native_app or not step.native_app]


def reference_bindings(variables: dict[str, str]) -> list[str]:
    """One register_reference CALL per reference of manifest.yml: the consumer side of the app's references."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    names = [name for entry in manifest["references"] for name in entry]
    return [
        f"CALL {variables['app']}.config.register_reference('{name}', 'ADD', SYSTEM$REFERENCE('VIEW', "
        f"'{variables['database']}.REPORTING.{name.upper()}', 'PERSISTENT', 'SELECT'))"
        for name in names
    ]


def statements(step: Step, variables: dict[str, str]) -> list[str]:
    """The SQL a step runs (empty for a `snow` step, which the CLI performs)."""
    if step.kind == "sql":
        text = (apply_sql.SQL_DIR / step.target).read_text(encoding="utf-8")
        return apply_sql.split_statements(apply_sql.render(text, variables))
    if step.target == "BUILD_REPORTING_VIEWS":
        database = variables["database"]
        return [f"CALL {database}.CURATED.BUILD_REPORTING_VIEWS('{database}')"]
    if step.target == "BIND_REFERENCES":
        return reference_bindings(variables)
    return []


def inner_statements(step: Step, variables: dict[str, str]) -> list[str]:
    """What a procedure CALL runs as its owner (owner's rights): the objects it creates belong to the owner."""
    if step.target != "BUILD_REPORTING_VIEWS":
        return []
    return list(view_statements(variables["database"]).values())


def dry_run(variables: dict[str, str], native_app: bool = False, connection: str = "CONNECTION") -> Iterator[str]:
    """Every statement and CLI command of the plan, each with the role it runs as."""
    for number, step in enumerate(steps(native_app), start=1):
        yield f"-- step {number}: {step.kind} {step.target} as {step.role}: {step.why}"
        if step.kind == "snow":
            yield f"[{step.role}] {shlex.join(snow_command(step, connection, variables))}"
        for statement in statements(step, variables):
            yield f"[{step.role}] {' '.join(statement.split())};"
        for statement in inner_statements(step, variables):
            yield f"[{step.role} inside {step.target}] {' '.join(statement.split())};"


def snow_command(step: Step, connection: str, variables: dict[str, str]) -> list[str]:
    """The Snowflake CLI command of a `snow` step (`snowpark build` works offline; the others connect as `role`)."""
    args = ["snow", *shlex.split(step.target)]
    if step.target.startswith("snowpark build"):
        return args
    return [*args, "--connection", connection, "--role", step.role]


def _sql_commands(step: Step, connection: str, variables: dict[str, str]) -> list[list[str]]:
    base = ["snow", "sql", "--connection", connection, "--role", step.role]
    if step.kind == "sql":
        defines = [arg for name, value in sorted(variables.items()) for arg in ("-D", f"{name}={value}")]
        return [[*base, "-f", str(apply_sql.SQL_DIR / step.target), *defines]]
    return [[*base, "-q", statement] for statement in statements(step, variables)]


def commands(variables: dict[str, str], connection: str, native_app: bool = False) -> list[list[str]]:
    """Every CLI command of the plan, in order."""
    missing = [name for name in REQUIRED_VARIABLES if not variables.get(name)]
    if missing:
        raise ValueError(f"deploy variables missing: {missing} (give each with -D name=value)")
    result = []
    for step in steps(native_app):
        if step.kind == "snow":
            result.append(snow_command(step, connection, variables))
        else:
            result.extend(_sql_commands(step, connection, variables))
    return result


def run(variables: dict[str, str], connection: str, native_app: bool = False, echo: Callable = print) -> None:
    """Run the plan against an account; stops at the first failing command."""
    snow = str(Path(sys.executable).with_name("snow"))
    # `snow snowpark build` packages the glob artifacts of snowflake.yml only with this feature on.
    env = {**os.environ, "SNOWFLAKE_CLI_FEATURES_ENABLE_SNOWPARK_GLOB_SUPPORT": "true"}
    for command in commands(variables, connection, native_app):
        echo(shlex.join(command))
        subprocess.run([snow, *command[1:]], cwd=PROJECT_ROOT, check=True, env=env)


LOCAL_STEP_SKIPS = {
    "snow": "the Snowflake CLI cannot deploy to fakesnow; the local warehouse runs the handlers from snowpark/",
}


def run_locally(
    session: Any, variables: dict[str, str], build_views: Callable[[Any], Any]
) -> list[apply_sql.StatementResult]:
    """The plan on the local warehouse (roles are not switched: fakesnow has none). SQL files run with apply_sql's
    declared skips; BUILD_REPORTING_VIEWS runs its handler (`build_views`); the native-app steps do not apply."""
    results: list[apply_sql.StatementResult] = []
    for step in steps(native_app=False):
        if step.kind == "sql":
            results.extend(apply_sql.apply(session, variables, [apply_sql.SQL_DIR / step.target]))
        elif step.kind == "call":
            build_views(session)
            results.append(apply_sql.StatementResult(step.target, statements(step, variables)[0]))
        else:
            results.append(apply_sql.StatementResult("snow", f"snow {step.target}", LOCAL_STEP_SKIPS["snow"]))
    return results
