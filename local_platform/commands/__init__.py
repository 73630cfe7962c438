"""Subcommands of `energy-platform`, one module per part of the flow (each defines `register(subparsers)`)."""
