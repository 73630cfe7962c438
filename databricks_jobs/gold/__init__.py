"""Gold: business tables built from Silver, one module per idea, discovered through a registry.

A module in this package contributes tables by defining `BUILDERS: tuple[GoldBuilder, ...]`; `gold_builders()` collects
them all, so another part (e.g. reliability) adds its tables by adding a module, without editing this one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from databricks_jobs import tables
from databricks_jobs.gold.context import GoldContext

__all__ = ["GoldBuilder", "GoldContext", "gold_builders"]

# upsert: the builder returns only the recomputed keys (from ctx.changed(...)), MERGEd on the primary key.
# sync: the builder returns the whole table (small tables); rows missing from it are deleted.
WriteMode = Literal["upsert", "sync"]


@dataclass(frozen=True)
class GoldBuilder:
    table: tables.TableContract
    build: Callable[[GoldContext], object]  # returns a DataFrame, or None when there is nothing to write
    mode: WriteMode = "upsert"
    inputs: tuple[str, ...] = ()  # Silver tables whose new batches this builder consumes


def _order(builder: GoldBuilder) -> int:
    names = [t.name for t in tables.GOLD_TABLES]
    return names.index(builder.table.name) if builder.table.name in names else len(names)


def gold_builders() -> tuple[GoldBuilder, ...]:
    """Every builder of every module in this package, in the order of tables.GOLD_TABLES."""
    found: list[GoldBuilder] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "BUILDERS", ()))
    names = [b.table.name for b in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"more than one Gold builder for {sorted(duplicates)}")
    return tuple(sorted(found, key=_order))
