"""What a Gold builder is: a table contract, a function that builds its rows, how they are written, its inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from databricks_jobs import tables
from databricks_jobs.gold.context import GoldContext

# upsert: the builder returns only the recomputed keys (from ctx.changed(...)), MERGEd on the primary key.
# sync: the builder returns the whole table (small tables); rows missing from it are deleted.
WriteMode = Literal["upsert", "sync"]


@dataclass(frozen=True)
class GoldBuilder:
    table: tables.TableContract
    build: Callable[[GoldContext], object]  # returns a DataFrame, or None when there is nothing to write
    mode: WriteMode = "upsert"
    inputs: tuple[str, ...] = ()  # Silver tables whose new batches this builder consumes
    reads: tuple[str, ...] = ()  # other lake tables it reads whole (their changes make it run again)
