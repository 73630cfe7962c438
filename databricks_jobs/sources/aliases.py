"""What a definition's column aliases mean: a header name matches an alias case-, space- and BOM-insensitively, and
the first alias present wins. Declarative: Bronze checks headers with it, Silver finds fields with it."""

from __future__ import annotations

from databricks_jobs.sources.model import SourceDefinition


def normalise_header(name: str) -> str:
    """Header names compare case-, space- and BOM-insensitively."""
    return " ".join(str(name).replace("\ufeff", "").split()).lower()


def find_column(header: list[str], aliases: tuple[str, ...]) -> str | None:
    """The header name matching the first alias present, or None."""
    by_key = {normalise_header(h): h for h in header}
    return next((by_key[normalise_header(a)] for a in aliases if normalise_header(a) in by_key), None)


def required_aliases(definition: SourceDefinition) -> list[tuple[str, tuple[str, ...]]]:
    """(what, aliases) for every column a file of this source must have in its header."""
    needed = [("timestamp", aliases) for aliases in definition.timestamp.columns]
    if definition.shape == "long":
        needed += [(f"field {f.name}", f.columns) for f in definition.fields if f.required]
        needed += [(f"sum_over {c}", (c,)) for c in definition.sum_over]
    for what, key in (("region", definition.region), ("station", definition.station)):
        if key is not None and key.origin == "column":
            needed.append((what, key.columns))
    if definition.row_filter is not None:
        needed.append(("filter", definition.row_filter.columns))
    return needed
