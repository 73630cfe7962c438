"""Declarative source definitions (YAML) and the readers that turn raw files into Bronze rows."""

from __future__ import annotations

from pathlib import Path

from databricks_jobs.sources.model import (
    FieldSpec,
    KeySpec,
    SourceDefinition,
    SourceDefinitionError,
    TimestampSpec,
    load_definition_file,
    parse_definition,
)

DEFINITIONS_DIR = Path(__file__).with_name("definitions")


def load_source_definitions(path: str | Path | None = None) -> dict[str, SourceDefinition]:
    """Every `*.yml` definition in a folder (default: the bundled definitions), keyed by source_id."""
    folder = Path(path) if path is not None else DEFINITIONS_DIR
    if not folder.is_dir():
        raise SourceDefinitionError(f"{folder}: source definitions folder does not exist")
    definitions: dict[str, SourceDefinition] = {}
    for file in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        definition = load_definition_file(file)
        if definition.source_id in definitions:
            other = definitions[definition.source_id].definition_path
            raise SourceDefinitionError(f"{file}: source_id {definition.source_id!r} is also defined in {other}")
        definitions[definition.source_id] = definition
    return definitions


__all__ = [
    "DEFINITIONS_DIR",
    "FieldSpec",
    "KeySpec",
    "SourceDefinition",
    "SourceDefinitionError",
    "TimestampSpec",
    "load_definition_file",
    "load_source_definitions",
    "parse_definition",
]
