"""sql/ parses as Snowflake SQL, the curated DDL matches the table contracts, snowflake.yml matches the handlers, and
the Snowflake CLI builds the project offline and queries the local warehouse."""

from __future__ import annotations

import importlib
import inspect
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

from databricks_jobs import tables
from databricks_jobs.export import snowflake_contract as ddl
from local_platform.warehouse import apply_sql, control
from local_platform.warehouse.deploy import DEFAULT_NAMES

REPO = Path(__file__).resolve().parents[2]
SNOW = REPO / ".venv" / "bin" / "snow"
DEPLOY_VARIABLES = {
    "database": "ENERGY",
    "export_url": "s3://energy-curated/gold-export/",
    "aws_role_arn": "arn:aws:iam::000000000000:role/energy-snowflake-read",
    "warehouse": "COMPUTE_WH",
    "admin_role": "ENERGY_ADMIN",
    "analyst_role": "ENERGY_ANALYST",
}
# Statements sqlglot keeps as an opaque Command (it parses them but has no typed tree): roles, grants, tasks, and the
# aggregate functions, the native app's versioned schema and application roles.
OPAQUE_OK = (
    "CREATE ROLE",
    "GRANT",
    "CREATE TASK",
    "ALTER TASK",
    "ALTER STORAGE INTEGRATION",
    "CREATE APPLICATION ROLE",
    "CREATE OR ALTER",
    "CREATE OR REPLACE AGGREGATE FUNCTION",
    "CREATE OR REPLACE STREAMLIT",
)
SQL_FILES = [*apply_sql.sql_files(), REPO / "sql" / "native_app" / "setup_script.sql"]


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_every_sql_file_parses_with_the_snowflake_dialect(path):
    text = apply_sql.render(path.read_text(encoding="utf-8"), DEPLOY_VARIABLES)
    statements = apply_sql.split_statements(text)
    assert statements
    for statement in statements:
        parsed = sqlglot.parse_one(statement, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        if isinstance(parsed, exp.Command):
            assert " ".join(statement.split()).upper().startswith(OPAQUE_OK), statement[:80]


def test_curated_ddl_is_generated_from_the_contracts():
    assert ddl.CURATED_TABLES_SQL.read_text(encoding="utf-8") == ddl.curated_tables_sql(), (
        "sql/05_curated_tables.sql is stale: run python -m databricks_jobs.export.snowflake_contract"
    )
    text = apply_sql.render(ddl.CURATED_TABLES_SQL.read_text(encoding="utf-8"), DEPLOY_VARIABLES)
    created = {}
    for statement in apply_sql.split_statements(text):
        tree = sqlglot.parse_one(statement, read="snowflake")
        created[tree.this.this.name.lower()] = tree
    assert sorted(created) == sorted(t.name for t in tables.GOLD_TABLES)
    for table in tables.GOLD_TABLES:
        tree = created[table.name]
        columns = [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
        assert [c.name.lower() for c in columns] == table.column_names
        for column, contract_column in zip(columns, table.columns, strict=True):
            assert column.args["kind"].sql("snowflake") == sqlglot.parse_one(
                f"CAST(x AS {ddl.SNOWFLAKE_TYPES[contract_column.type]})", read="snowflake"
            ).to.sql("snowflake")
            assert any(isinstance(k.kind, exp.NotNullColumnConstraint) for k in column.constraints) == (
                not contract_column.nullable
            )
        cluster = tree.find(exp.ClusterProperty)
        clustered_by = [e.name.lower() for e in cluster.expressions] if cluster else []
        assert clustered_by == list(table.cluster_by), table.name


SNOWPARK_TYPES = {str: "string", float: "float", "str": "string", "float": "float", "Optional[float]": "float"}


def _handler(dotted: str):
    module_name, function_name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"snowpark.{module_name}"), function_name)


def test_snowflake_yml_signatures_match_the_handlers():
    project = yaml.safe_load((REPO / "snowflake.yml").read_text(encoding="utf-8"))
    entities = {n: e for n, e in project["entities"].items() if e["type"] in ("procedure", "function")}
    assert {"load_gold_export", "build_reporting_views", "refresh_reporting", "load_factor"} <= set(entities)
    for name, entity in entities.items():
        handler = _handler(entity["handler"])
        parameters = list(inspect.signature(handler).parameters.values())
        if entity["type"] == "procedure":
            assert parameters[0].name == "session", name
            parameters = parameters[1:]
        if getattr(handler, "_sf_vectorized_input", None) is not None:  # one DataFrame argument, one column per arg
            assert len(parameters) == 1 and len(entity["signature"]) == 2, name
            continue
        assert [p.name for p in parameters] == [a["name"] for a in entity["signature"]], name
        assert [SNOWPARK_TYPES[p.annotation] for p in parameters] == [a["type"] for a in entity["signature"]], name


def test_snowflake_yml_streamlit_entity_points_at_existing_files():
    project = yaml.safe_load((REPO / "snowflake.yml").read_text(encoding="utf-8"))
    streamlit = project["entities"]["energy_dashboard"]
    for relative in (streamlit["main_file"], *streamlit["artifacts"]):
        assert (REPO / relative).exists(), relative
    assert (
        "get_active_session" in (REPO / streamlit["main_file"]).read_text(encoding="utf-8")
        or (REPO / "streamlit_in_snowflake" / "energy_app").is_dir()
    )


def _project_copy(tmp_path: Path) -> Path:
    """The files the Snowflake CLI reads, copied so its build output never lands in the working tree."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("snowflake.yml", "requirements.txt", "requirements.snowflake.txt", ".snowflake"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    for folder in ("snowpark", "sql", "streamlit_in_snowflake"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _snow(args: list[str], cwd: Path, config: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(SNOW), "--config-file", str(config), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"snow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow  # the Snowflake CLI packages the project: about a minute
def test_snow_snowpark_build_and_app_bundle_offline(tmp_path):
    root = _project_copy(tmp_path)
    config = root / ".snowflake" / "config.toml"
    config.chmod(0o600)
    _snow(["snowpark", "build", "--ignore-anaconda"], root, config)
    (archive,) = list((root / "output").rglob("snowpark.zip"))
    names = zipfile.ZipFile(archive).namelist()
    for module in ("load_export", "reporting_views", "refresh", "load_factor", "identifiers", "plausibility"):
        assert f"energy_snowpark/{module}.py" in names  # handlers are energy_snowpark.<module>.<function>
    assert "energy_snowpark/export_contract.json" in names  # the load's contract travels with the code

    _snow(["app", "bundle"], root, config)
    deploy = root / "output" / "deploy"
    for relative in (
        "manifest.yml",
        "setup_script.sql",
        "README.md",
        "python/energy_snowpark/load_factor.py",
        "streamlit/streamlit_app.py",
        "streamlit/environment.yml",
        "streamlit/READS_THROUGH_REFERENCES",  # inside the app, the Streamlit reads through references
        "streamlit/energy_app/views.py",
    ):
        assert (deploy / relative).is_file(), relative
    manifest = yaml.safe_load((deploy / "manifest.yml").read_text())
    assert manifest["artifacts"]["setup_script"] == "setup_script.sql"


def test_snow_sql_queries_the_local_warehouse(warehouse, tmp_path):
    from local_platform.warehouse import runner

    runner.load(warehouse, "LATEST")
    runner.build(warehouse)
    config = control.write_cli_config(tmp_path / "config.toml", warehouse)
    result = _snow(
        ["sql", "-c", "local", "--format", "json", "-q",
         "select region_code, date_local, energy_mwh from ENERGY.REPORTING.DAILY_DEMAND order by date_local"],
        REPO,
        config,
    )  # fmt: skip
    rows = json.loads(result.stdout)
    with control.session(warehouse) as session:
        expected = session.sql("select count(*), sum(energy_mwh) from ENERGY.CURATED.GOLD_DEMAND__DAILY").collect()[0]
    assert len(rows) == expected[0] > 0
    assert sum(r["ENERGY_MWH"] for r in rows) == pytest.approx(expected[1])


def test_snow_sql_runs_a_deploy_file_with_its_variables_and_role(warehouse, tmp_path):
    """The deploy's own command shape (`snow sql --role R -f FILE -D name=value`) resolves `<% name %>`."""
    from local_platform.warehouse import deploy

    config = control.write_cli_config(tmp_path / "config.toml", warehouse)
    _snow(["sql", "-c", "local", "-q", "create database if not exists SNOWCLI_DEPLOY"], REPO, config)
    step = next(s for s in deploy.PLAN if s.target == "03_schemas.sql")
    (command,) = deploy._sql_commands(step, "local", {**deploy.EXAMPLE_VARIABLES, "database": "SNOWCLI_DEPLOY"})
    assert command[:6] == ["snow", "sql", "--connection", "local", "--role", "ENERGY_ADMIN"]
    _snow(command[1:], REPO, config)
    with control.session(warehouse) as session:
        schemas = {r["name"] for r in session.sql("SHOW SCHEMAS IN DATABASE SNOWCLI_DEPLOY").collect()}
    assert {"CURATED", "REPORTING", "APP"} <= schemas


def test_the_cli_renders_snowflake_yml_with_other_names_and_no_default_left(other_names):
    """The Snowflake CLI's own rendering (snowflake.cli.api.utils.definition_rendering, what `--env` feeds): every
    entity lands in the given database, imports from its stage, runs on its warehouse, as its role."""
    from snowflake.cli.api.utils.definition_rendering import render_definition_template

    definition = yaml.safe_load((REPO / "snowflake.yml").read_text(encoding="utf-8"))
    model = render_definition_template(definition, {"ctx": {"env": other_names}}).project_definition
    entities = model.entities
    for name in ("load_gold_export", "build_reporting_views", "refresh_reporting", "load_factor"):
        assert entities[name].fqn.database == "OTHERDB", name
        assert entities[name].stage == "OTHERDB.CURATED.SNOWPARK_CODE", name
    assert (entities["energy_dashboard"].query_warehouse, entities["energy_dashboard"].stage) == (
        "OTHER_WH",
        "OTHERDB.APP.STREAMLIT_CODE",
    )
    app, package = entities["energy_app"], entities["energy_app_package"]
    assert (app.fqn.name, app.meta.warehouse, app.meta.role) == ("OTHER_APP", "OTHER_WH", "OTHER_ADMIN")
    assert (package.fqn.name, package.meta.warehouse, package.meta.role) == ("OTHER_PKG", "OTHER_WH", "OTHER_ADMIN")
    rendered = json.dumps(model.model_dump(exclude={"env"}, mode="json"))
    assert not [word for word in DEFAULT_NAMES.values() if f'"{word}"' in rendered or f"{word}." in rendered]
    # Without --env, the defaults of the env section, so a plain `snow` command still deploys ENERGY.
    default = render_definition_template(definition, {}).project_definition
    assert default.entities["energy_app"].meta.warehouse == "COMPUTE_WH"


def test_snow_bundles_and_builds_offline_with_other_names(tmp_path, other_names_env):
    root = _project_copy(tmp_path)
    config = root / ".snowflake" / "config.toml"
    config.chmod(0o600)
    _snow(["snowpark", "build", "--ignore-anaconda", *other_names_env], root, config)
    _snow(["app", "bundle", *other_names_env], root, config)
    deploy = root / "output" / "deploy"
    manifest = yaml.safe_load((deploy / "manifest.yml").read_text())
    descriptions = [entry[name]["description"] for entry in manifest["references"] for name in entry]
    assert descriptions and all(d.startswith("SELECT on OTHERDB.REPORTING.") for d in descriptions)
    assert manifest["configuration"]["trace_level"] == "OFF"  # a string, as the manifest schema wants
    assert "OTHERDB.REPORTING" in (deploy / "README.md").read_text()
