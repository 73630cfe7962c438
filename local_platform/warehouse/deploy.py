"""The Snowflake deploy as one ordered plan: every step names the role it runs as and why it comes where it does.

The same plan is printed (`energy-platform deploy --dry-run`), run against an account through the Snowflake CLI
(`snow sql -f FILE --role ROLE -D ...`, `snow snowpark deploy`, `snow streamlit deploy`, `snow app run`), and run
on the local warehouse (`run_locally`), where what cannot apply is skipped by a declared reason.

Order and owners, each for a Snowflake rule:
- roles first (SECURITYADMIN), so every owner and grant below names an existing role;
- ACCOUNTADMIN only for the storage integration (it needs CREATE INTEGRATION);
- everything that runs is created by the admin role (ENERGY_ADMIN by default) and so owned by it: owner's-rights
  procedures run with their
  owner's privileges, and a task runs as its owner;
- EXECUTE TASK is granted (00_roles) before ALTER TASK ... RESUME (08);
- the reporting views are built at deploy, on the empty curated tables, so the app opens on "no data yet";
- future grants run as SECURITYADMIN (MANAGE GRANTS).

Names: the database, the warehouse, the two project roles, the application package and the application are deploy
variables (-D name=value). They reach the sql/ files (`snow sql -D`), the Snowflake CLI's project definition
(snowflake.yml's `env`, overridden with `--env` on every `snow` command) and the warehouse every command runs on
(`--warehouse`), so a deploy under other names never touches the default ones. A value that is not a plain
identifier is refused: the project cannot quote it everywhere it is used.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local_platform.warehouse import apply_sql
from snowpark.energy_snowpark.identifiers import InvalidIdentifierError, quote_identifier
from snowpark.energy_snowpark.reporting_views import view_statements

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_ROOT / "sql" / "native_app" / "manifest.yml"
# A step's role: an account role by name, or one of the project's roles by its variable.
ADMIN, ANALYST = "admin_role", "analyst_role"
REQUIRED_VARIABLES = ("database", "warehouse", "export_url", "aws_role_arn")
DEFAULT_NAMES = {  # snowflake.yml's `env` holds the same defaults
    "database": "ENERGY",
    "warehouse": "COMPUTE_WH",
    ADMIN: "ENERGY_ADMIN",
    ANALYST: "ENERGY_ANALYST",
    "app_package": "ENERGY_APP_PKG",
    "app": "ENERGY_APP",
}
IDENTIFIER_VARIABLES = tuple(DEFAULT_NAMES)
EXAMPLE_VARIABLES = {  # placeholders for a dry run; a real deploy needs every required value given
    **DEFAULT_NAMES,
    "export_url": "s3://YOUR-BUCKET/gold-export/",
    "aws_role_arn": "arn:aws:iam::YOUR-ACCOUNT-ID:role/YOUR-SNOWFLAKE-READER",
}
EXPORT_URL = re.compile(r"(s3|s3gov|gcs|azure)://[A-Za-z0-9._/-]+/")
AWS_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[A-Za-z0-9-]+:role/[A-Za-z0-9+=,.@_/-]+")


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
    Step("SYSADMIN", "sql", "01_database.sql", "CREATE DATABASE, then ownership to the admin role"),
    Step("ACCOUNTADMIN", "sql", "02_storage_integration.sql", "the one step that needs CREATE INTEGRATION"),
    Step(ADMIN, "sql", "03_schemas.sql", "schemas owned by the admin role"),
    Step(ADMIN, "sql", "04_stage_and_file_formats.sql", "stage (USAGE on the integration) and file formats"),
    Step(ADMIN, "sql", "05_curated_tables.sql", "curated tables, generated from the Gold contracts"),
    Step(ADMIN, "sql", "06_load_history.sql", "the load's audit table"),
    Step(ADMIN, "snow", "snowpark build --ignore-anaconda", "package snowpark/ (no connection needed)"),
    Step(ADMIN, "snow", "snowpark deploy --replace", "procedures and UDFs, owned by the admin role"),
    Step(ADMIN, "sql", "07_load_factor_aggregate.sql", "the UDAF, from the code stage the deploy filled"),
    Step(ADMIN, "call", "BUILD_REPORTING_VIEWS", "views on the empty tables: the app opens on 'no data yet'"),
    Step(ADMIN, "sql", "08_refresh_task.sql", "task owned by the admin role; resumes: EXECUTE TASK granted in 00"),
    Step(ADMIN, "snow", "streamlit deploy energy_dashboard --replace", "the app, owned by the admin role"),
    Step("SECURITYADMIN", "sql", "09_analyst_grants.sql", "the analyst role: REPORTING and the app only"),
    Step("SECURITYADMIN", "sql", "native_app/privileges.sql", "CREATE APPLICATION [PACKAGE]", native_app=True),
    Step(ADMIN, "snow", "app run", "application package and application, owned by the admin role", native_app=True),
    Step(ADMIN, "call", "BIND_REFERENCES", "bind every reference of manifest.yml to its view", native_app=True),
    Step(ADMIN, "sql", "native_app/analyst_access.sql", "the app's app_public role to analysts", native_app=True),
)


def steps(native_app: bool = False) -> list[Step]:
    return [step for step in PLAN if native_app or not step.native_app]


def role_name(step: Step, variables: dict[str, str]) -> str:
    """The role a step runs as: SECURITYADMIN, SYSADMIN, ACCOUNTADMIN, or the project's admin role's name."""
    return variables[step.role] if step.role in (ADMIN, ANALYST) else step.role


def with_defaults(variables: dict[str, str]) -> dict[str, str]:
    """The given variables over the default names (database, warehouse, roles, app); checked."""
    merged = {**DEFAULT_NAMES, **variables}
    check_variables(merged)
    return merged


def check_variables(variables: dict[str, str]) -> None:
    """Refuse what the deploy cannot honour: names must be plain identifiers (they are written unquoted in SQL and in
    the CLI's project definition), the export URL a cloud URL ending in '/', the role an IAM role ARN."""
    for name in IDENTIFIER_VARIABLES:
        try:
            quote_identifier(variables[name], f"deploy variable {name}")
        except InvalidIdentifierError as error:
            raise ValueError(str(error)) from None
    if variables.get("export_url") and not EXPORT_URL.fullmatch(variables["export_url"]):
        raise ValueError(f"deploy variable export_url {variables['export_url']!r}: expected s3://bucket/prefix/")
    if variables.get("aws_role_arn") and not AWS_ROLE_ARN.fullmatch(variables["aws_role_arn"]):
        raise ValueError(f"deploy variable aws_role_arn {variables['aws_role_arn']!r}: expected an IAM role ARN")


def project_env(variables: dict[str, str]) -> list[str]:
    """`--env name=value` for every name snowflake.yml templates (`<% ctx.env.name %>`)."""
    return [arg for name in IDENTIFIER_VARIABLES for arg in ("--env", f"{name}={variables[name]}")]


def reference_bindings(variables: dict[str, str]) -> list[str]:
    """One register_reference CALL per reference of manifest.yml: the consumer side of the app's references."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    names = [name for entry in manifest["references"] for name in entry]  # (descriptions are templates; names not)
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
    variables = with_defaults(variables)
    for number, step in enumerate(steps(native_app), start=1):
        role = role_name(step, variables)
        yield f"-- step {number}: {step.kind} {step.target} as {role}: {step.why}"
        if step.kind == "snow":
            yield f"[{role}] {shlex.join(snow_command(step, connection, variables))}"
        for statement in statements(step, variables):
            yield f"[{role}] {' '.join(statement.split())};"
        for statement in inner_statements(step, variables):
            yield f"[{role} inside {step.target}] {' '.join(statement.split())};"


def snow_command(step: Step, connection: str, variables: dict[str, str]) -> list[str]:
    """The Snowflake CLI command of a `snow` step, with the project's names as `--env` values (`snowpark build`
    works offline; the others connect as the step's role, on the deploy's warehouse)."""
    args = ["snow", *shlex.split(step.target), *project_env(variables)]
    if step.target.startswith("snowpark build"):
        return args
    return [*args, "--connection", connection, "--role", role_name(step, variables), "--warehouse",
            variables["warehouse"]]  # fmt: skip


def _sql_commands(step: Step, connection: str, variables: dict[str, str]) -> list[list[str]]:
    """`snow sql` as the step's role, on the deploy's warehouse (a CALL needs one; the connection's default is not
    relied on)."""
    role = role_name(step, variables)
    base = ["snow", "sql", "--connection", connection, "--role", role, "--warehouse", variables["warehouse"]]
    if step.kind == "sql":
        defines = [arg for name, value in sorted(variables.items()) for arg in ("-D", f"{name}={value}")]
        return [[*base, "-f", str(apply_sql.SQL_DIR / step.target), *defines]]
    return [[*base, "-q", statement] for statement in statements(step, variables)]


def commands(variables: dict[str, str], connection: str, native_app: bool = False) -> list[list[str]]:
    """Every CLI command of the plan, in order."""
    missing = [name for name in REQUIRED_VARIABLES if not variables.get(name)]
    if missing:
        raise ValueError(f"deploy variables missing: {missing} (give each with -D name=value)")
    variables = with_defaults(variables)
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
