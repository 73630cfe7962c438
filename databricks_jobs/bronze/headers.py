"""A raw file's header against its definition: every required column present (by alias), no name twice (or, when
the definition says so, later occurrences numbered)."""

from __future__ import annotations

from databricks_jobs.bronze.raw_files import RawFileError
from databricks_jobs.sources.aliases import find_column, normalise_header, required_aliases
from databricks_jobs.sources.model import SourceDefinition


def number_duplicates(header: list[str], definition: SourceDefinition) -> list[str]:
    """With `duplicate_columns: number`, later occurrences of a name become 'NAME#2', 'NAME#3' (the first keeps its
    name, so aliases find it); otherwise the header is returned as is and check_header refuses duplicates."""
    if definition.duplicate_columns != "number":
        return header
    seen: dict[str, int] = {}
    numbered = []
    for name in header:
        key = normalise_header(name)
        seen[key] = seen.get(key, 0) + 1
        numbered.append(name if seen[key] == 1 else f"{name}#{seen[key]}")
    return numbered


def check_header(definition: SourceDefinition, header: list[str], file: str) -> None:
    missing = [
        f"{what} (one of {list(aliases)})"
        for what, aliases in required_aliases(definition)
        if not find_column(header, aliases)
    ]
    if missing:
        raise RawFileError(f"{file}: wrong header: no column for {'; '.join(missing)}; header is {header}")
    if len({normalise_header(h) for h in header}) != len(header):
        raise RawFileError(f"{file}: wrong header: duplicate column names in {header}")
