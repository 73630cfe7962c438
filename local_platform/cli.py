"""`energy-platform`: the local platform's command line. Every subcommand has --help.

Each part of the flow contributes its subcommands from a module in `local_platform.commands` that defines
`register(subparsers)`; the module's parser sets `func`, which receives the parsed arguments.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from local_platform import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="energy-platform",
        description=(
            "Run the energy usage and reliability platform locally: raw samples -> Bronze -> Silver -> Gold "
            "(Spark + Delta) -> export -> local Snowflake warehouse -> Streamlit app."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
