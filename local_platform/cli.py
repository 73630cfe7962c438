"""`energy-platform`: the local platform's command line. Every subcommand has --help.

Each part of the flow contributes its subcommands from a module in `local_platform.commands` that defines
`register(subparsers)`; the module's parser sets `func`, which receives the parsed arguments. The modules are listed
here, in the order `--help` shows them: a new command module is added to COMMANDS by hand.
"""

from __future__ import annotations

import argparse
import sys

from local_platform.commands import app, demo, deploy, pipeline, s3, sources, synthetic, upgrade, warehouse

# The flow's order: the whole demo, its parts from raw files to the app, then upgrading and the real deploy.
COMMANDS = (demo, sources, synthetic, pipeline, s3, warehouse, app, upgrade, deploy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="energy-platform",
        description=(
            "Run the energy usage and reliability platform locally: raw samples -> Bronze -> Silver -> Gold "
            "(Spark + Delta) -> export -> local Snowflake warehouse -> Streamlit app."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
