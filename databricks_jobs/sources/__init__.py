"""Declarative source definitions (YAML) and the readers that turn raw files into Bronze rows."""

from __future__ import annotations

from pathlib import Path

from databricks_jobs.reference.config_root import config_file
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


def _load_folder(folder: Path) -> dict[str, SourceDefinition]:
    """Every `*.yml` / `*.yaml` definition in one folder, keyed by source_id; two files with one id is an error."""
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


def load_source_definitions(
    path: str | Path | None = None, *, config_root: str | Path | None = None
) -> dict[str, SourceDefinition]:
    """Definitions keyed by source_id: those of one folder, or (default) the packaged ones with `config_root`'s
    `sources/` over them (a definition with a packaged source_id replaces it; others are added)."""
    if path is not None:
        return _load_folder(Path(path))
    definitions = _load_folder(DEFINITIONS_DIR)
    user = config_file(config_root, "sources")
    if user is not None:
        definitions.update(_load_folder(user))
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
