"""A local stand-in for what a Databricks notebook gets injected (`dbutils.widgets`, `display`), and a runner that
executes a notebook in Databricks' source format cell by cell, in order, in one namespace, as the workspace does.

Source format, as Databricks exports a Python notebook: the first line `# Databricks notebook source`, cells
separated by a line `# COMMAND ----------` with one blank line either side, Markdown cells as `# MAGIC %md` lines.
`parse_notebook` accepts exactly that form (it refuses anything else), so a notebook that runs here also imports
into a workspace as a notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HEADER = "# Databricks notebook source\n"
SEPARATOR = "\n\n# COMMAND ----------\n\n"
MAGIC = "# MAGIC"


@dataclass
class Cell:
    index: int
    source: str

    @property
    def is_markdown(self) -> bool:
        return self.source.startswith(f"{MAGIC} %md")

    @property
    def is_magic(self) -> bool:
        return self.source.startswith(MAGIC)


def parse_notebook(text: str) -> list[Cell]:
    """The cells of a notebook in source format; ValueError when the text is not exactly in that format."""
    if not text.startswith(HEADER):
        raise ValueError("a notebook in source format starts with '# Databricks notebook source'")
    if not text.endswith("\n") or text.endswith("\n\n"):
        raise ValueError("a notebook ends with exactly one newline")
    cells = [Cell(i, c) for i, c in enumerate(text[len(HEADER) : -1].split(SEPARATOR))]
    for cell in cells:
        if not cell.source.strip() or cell.source != cell.source.strip("\n"):
            raise ValueError(f"cell {cell.index} is empty or has blank lines around it (separator not exact)")
        if "# COMMAND ----------" in cell.source:
            raise ValueError(f"cell {cell.index} holds a separator without a blank line either side")
        lines = cell.source.split("\n")
        if cell.is_magic and not all(line == MAGIC or line.startswith(f"{MAGIC} ") for line in lines):
            raise ValueError(f"cell {cell.index} mixes # MAGIC lines with code")
    return cells


def render_notebook(cells: list[Cell]) -> str:
    """The source-format text of these cells (parse_notebook's inverse)."""
    return HEADER + SEPARATOR.join(c.source for c in cells) + "\n"


class LocalWidgets:
    """dbutils.widgets: text widgets whose values a job (here: the test) may set before the notebook runs."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._given = dict(values or {})
        self._widgets: dict[str, str] = {}

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:  # noqa: N803 (dbutils' name)
        self._widgets[name] = self._given.get(name, defaultValue)

    def get(self, name: str) -> str:
        if name not in self._widgets:
            # As on Databricks: reading a widget the notebook did not create is an error.
            raise ValueError(f"no widget named {name!r}: create it with dbutils.widgets.text first")
        return self._widgets[name]

    def getAll(self) -> dict[str, str]:  # noqa: N802 (dbutils' name)
        return dict(self._widgets)

    def removeAll(self) -> None:  # noqa: N802
        self._widgets.clear()


@dataclass
class LocalDbutils:
    widgets: LocalWidgets


@dataclass
class NotebookRun:
    """What a run showed: every display() argument as pandas, in order, and the namespace after the last cell."""

    path: Path
    displayed: list = field(default_factory=list)
    namespace: dict = field(default_factory=dict)

    def shown_with(self, *columns: str):
        """The one displayed frame having all these columns."""
        found = [frame for frame in self.displayed if set(columns) <= set(frame.columns)]
        if len(found) != 1:
            raise LookupError(f"{self.path.name}: {len(found)} displayed frames have columns {columns}")
        return found[0]


def run_notebook(path: Path, spark, widgets: Mapping[str, str]) -> NotebookRun:
    """Execute every code cell of the notebook in order, with `spark`, `dbutils` and `display` injected."""
    run = NotebookRun(path)

    def display(frame) -> None:
        run.displayed.append(frame.toPandas() if hasattr(frame, "toPandas") else frame)

    run.namespace.update(
        {"__name__": "__main__", "spark": spark, "dbutils": LocalDbutils(LocalWidgets(widgets)), "display": display}
    )
    for cell in parse_notebook(path.read_text()):
        if cell.is_magic:
            continue  # Markdown (and any other magic) is not Python
        code = compile(cell.source, f"{path.name}[cell {cell.index}]", "exec")
        exec(code, run.namespace)  # noqa: S102 - executing the notebook is the point
    return run


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.lakehouse.notebook_runtime NOTEBOOK [widget=value ...]`: run a notebook locally (local Spark,
    the local lake unless the widgets say otherwise) and print what each display() showed."""
    import sys

    import pandas as pd

    from databricks_jobs.spark_session import get_spark

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(main.__doc__)
        return 0 if args else 2
    widgets = dict(arg.split("=", 1) for arg in args[1:])
    run = run_notebook(Path(args[0]), get_spark(), widgets)
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_rows", 50):
        for index, shown in enumerate(run.displayed):
            print(f"--- display {index + 1}\n{shown}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
