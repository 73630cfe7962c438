"""`energy-platform deploy`: the Snowflake side deployed in order, each step as the role it needs (see
local_platform/warehouse/deploy.py); `--dry-run` prints every statement with its role and connects to nothing."""

from __future__ import annotations

import argparse

from local_platform.warehouse import deploy

DESCRIPTION = """\
Deploy the Snowflake side with the Snowflake CLI, step by step, each step as its role: SECURITYADMIN (roles,
EXECUTE TASK, analyst grants), SYSADMIN (the database), ACCOUNTADMIN (the storage integration only) and the admin
role (owner of everything that runs). The connection comes from your own ~/.snowflake/connections.toml; its user
needs those roles. Required: -D export_url=s3://BUCKET/gold-export/ -D aws_role_arn=arn:aws:iam::ACCOUNT:role/ROLE.
Names (defaults in brackets): -D database= [ENERGY] -D warehouse= [COMPUTE_WH] -D admin_role= [ENERGY_ADMIN]
-D analyst_role= [ENERGY_ANALYST] -D app_package= [ENERGY_APP_PKG] -D app= [ENERGY_APP]; every `snow` command gets
them as --env values and runs on --warehouse.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    text = "deploy the Snowflake side in order with `snow` (--dry-run prints the plan)"
    parser = subparsers.add_parser("deploy", help=text, description=DESCRIPTION)
    parser.add_argument("--connection", "-c", default="CONNECTION", help="Snowflake CLI connection name")
    parser.add_argument("--dry-run", action="store_true", help="print every statement and its role; run nothing")
    parser.add_argument("--native-app", action="store_true", help="also deploy the native app and bind references")
    parser.add_argument("-D", dest="variables", action="append", default=[], metavar="NAME=VALUE")
    parser.set_defaults(func=run)


def _variables(pairs: list[str], dry_run: bool) -> dict[str, str]:
    given = dict(pair.split("=", 1) for pair in pairs)
    return {**deploy.EXAMPLE_VARIABLES, **given} if dry_run else given


def run(args: argparse.Namespace) -> int:
    variables = _variables(args.variables, args.dry_run)
    try:
        deploy.check_variables(deploy.with_defaults(variables))
    except ValueError as error:
        print(f"energy-platform deploy: {error}")
        return 2
    if args.dry_run:
        for line in deploy.dry_run(variables, args.native_app, args.connection):
            print(line)
        return 0
    deploy.run(variables, args.connection, args.native_app)
    return 0
