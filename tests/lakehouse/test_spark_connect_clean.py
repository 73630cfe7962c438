"""The code that runs on Databricks must run through Spark Connect (serverless, standard access mode), where there is
no SparkContext, JVM gateway, RDD, localCheckpoint or input_file_name(), and serverless refuses DataFrame.persist /
cache ([NOT_SUPPORTED_WITH_SERVERLESS] PERSIST TABLE) and checkpoint. Local Spark has them all, so without this guard
a use would pass every other test here and fail only on the cluster.

Docs: "Serverless compute limitations" (https://docs.databricks.com/aws/en/compute/serverless/limitations),
"Compute access mode limitations for Unity Catalog"
(https://docs.databricks.com/aws/en/compute/access-mode-limitations).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATABRICKS_CODE = REPO_ROOT / "databricks_jobs"

FORBIDDEN_ATTRIBUTES = {
    "sparkContext": "SparkContext (spark.sparkContext)",
    "_jvm": "the py4j JVM gateway (_jvm)",
    "_jsc": "the Java SparkContext (_jsc)",
    "rdd": "the RDD API (.rdd)",
    "localCheckpoint": "localCheckpoint",
}
# DataFrame methods serverless refuses; a staging Delta table (lake.stage) is what the pipeline uses instead.
FORBIDDEN_CALLS = {
    "persist": "DataFrame.persist (serverless refuses it: stage to a Delta table, lake.stage)",
    "cache": "DataFrame.cache (serverless refuses it: stage to a Delta table, lake.stage)",
    "unpersist": "DataFrame.unpersist (nothing may be persisted on serverless)",
    "checkpoint": "DataFrame.checkpoint (serverless refuses it: stage to a Delta table, lake.stage)",
}
# Functions that run only on the local catalog, each called only inside an `if` on settings.is_local_catalog (checked
# below): the local stand-in may use the JVM where Unity Catalog has a Spark Connect way to the same answer.
LOCAL_ONLY = {
    "databricks_jobs/lake.py": {
        # Delta's snapshot metadata without DeltaTableV2's state reconstruction; Unity Catalog: DESCRIBE DETAIL.
        "_local_metadata",
    },
}
INPUT_FILE_NAME_SQL = re.compile(r"\binput_file_name\s*\(", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings: prose may name what it avoids."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _problem(node: ast.AST, docstrings: set[int]) -> str | None:
    """What Spark Connect lacks that this node uses, or None."""
    if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
        return FORBIDDEN_ATTRIBUTES[node.attr]
    if (
        isinstance(node, ast.Attribute | ast.Name)
        and getattr(node, "attr", getattr(node, "id", None)) == "SparkContext"
    ):
        return "SparkContext"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FORBIDDEN_CALLS:
        # functools.cache(f) is a decorator factory, not a DataFrame's
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "functools"):
            return FORBIDDEN_CALLS[node.func.attr]
    if isinstance(node, ast.Call) and _called_name(node) == "input_file_name":
        return "input_file_name() (use the _metadata column: _metadata.file_path / file_name)"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
        if INPUT_FILE_NAME_SQL.search(node.value):
            return "input_file_name() in SQL text (use the _metadata column)"
    if isinstance(node, ast.Import):
        if any(alias.name == "py4j" or alias.name.startswith("py4j.") for alias in node.names):
            return "a py4j import"
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if module == "py4j" or module.startswith("py4j."):
            return "a py4j import"
        for alias in node.names:
            if alias.name in ("SparkContext", "input_file_name"):
                return f"an import of {alias.name}"
    return None


def _inside(tree: ast.AST, functions: set[str]) -> set[int]:
    """ids of every node inside the named functions' bodies."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in functions
        for inner in ast.walk(node)
    }


def spark_connect_violations(source: str, filename: str, local_only: set[str] = frozenset()) -> list[str]:
    """`file:line: what` for every use in source of something Spark Connect does not have, outside the `local_only`
    functions."""
    tree = ast.parse(source, filename=filename)
    docstrings = _docstrings(tree)
    exempt = _inside(tree, set(local_only))
    found = []
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        problem = _problem(node, docstrings)
        if problem is not None:
            found.append((node.lineno, f"{filename}:{node.lineno}: {problem}"))
    return [message for _, message in sorted(set(found))]


PLANTED = '''\
"""A docstring may say input_file_name() and sparkContext without harm."""
import py4j.java_gateway
from py4j.protocol import Py4JJavaError
from pyspark import SparkContext
from pyspark.sql.functions import input_file_name
import pyspark.sql.functions as F

sc = spark.sparkContext
gateway = spark._jvm
java_context = spark._jsc
rows = df.rdd.map(lambda r: r)
pinned = df.localCheckpoint()
files = df.select(F.input_file_name())
names = df.selectExpr("input_file_name() AS file")
active = SparkContext._active_spark_context
kept = df.persist()
again = df.cache()
kept.unpersist()
cut = df.checkpoint(eager=True)
memo = functools.cache(len)
'''


def test_the_guard_catches_each_forbidden_use():
    found = spark_connect_violations(PLANTED, "planted.py")
    lines = [int(message.split(":")[1]) for message in found]
    assert lines == [2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], found
    assert found[0] == "planted.py:2: a py4j import"
    assert "planted.py:8: SparkContext (spark.sparkContext)" in found
    assert "planted.py:11: the RDD API (.rdd)" in found
    assert "planted.py:12: localCheckpoint" in found
    assert "planted.py:14: input_file_name() in SQL text (use the _metadata column)" in found
    assert "planted.py:16: DataFrame.persist (serverless refuses it: stage to a Delta table, lake.stage)" in found
    assert "planted.py:19: DataFrame.checkpoint (serverless refuses it: stage to a Delta table, lake.stage)" in found
    assert spark_connect_violations('"""No sparkContext here."""\nx = df.metadata_column\n', "clean.py") == []


def test_databricks_jobs_uses_only_what_spark_connect_has():
    sources = sorted(DATABRICKS_CODE.rglob("*.py"))
    assert len(sources) > 20, f"expected the package's modules under {DATABRICKS_CODE}"
    found = [
        message
        for path in sources
        for message in spark_connect_violations(
            path.read_text(), str(path.relative_to(REPO_ROOT)), LOCAL_ONLY.get(str(path.relative_to(REPO_ROOT)), set())
        )
    ]
    assert not found, "Spark Connect (serverless, standard access mode) lacks these:\n" + "\n".join(found)


def _requires_local_catalog(test: ast.expr) -> bool:
    """The condition holds only on the local catalog: `x.is_local_catalog`, alone or as a term of an `and` (not
    negated, not one side of an `or`)."""
    if isinstance(test, ast.Attribute):
        return test.attr == "is_local_catalog"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_requires_local_catalog(term) for term in test.values)
    return False


def _local_only_calls(tree: ast.AST, name: str) -> list[tuple[int, bool]]:
    """(line, guarded) for each call of `name`: guarded when an enclosing `if` tests settings.is_local_catalog."""
    calls = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If) and _requires_local_catalog(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, guarded)
            return
        if isinstance(node, ast.Call) and _called_name(node) == name:
            calls.append((node.lineno, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return calls


def test_local_only_functions_are_called_only_on_the_local_catalog():
    sources = {str(p.relative_to(REPO_ROOT)): p.read_text() for p in sorted(DATABRICKS_CODE.rglob("*.py"))}
    for filename, functions in LOCAL_ONLY.items():
        for function in functions:
            calls = [
                (f, line, guarded)
                for f, text in sources.items()
                for line, guarded in _local_only_calls(ast.parse(text), function)
            ]
            assert calls, f"{filename}:{function} is exempt from the guard but never called"
            unguarded = [f"{f}:{line}" for f, line, guarded in calls if not guarded]
            assert not unguarded, f"{function} called outside `if settings.is_local_catalog`: {unguarded}"
    planted = (
        "def f(s):\n    if s.is_local_catalog and x:\n        g()\n    else:\n        g()\n    g()\n"
        "    if not s.is_local_catalog:\n        g()\n    if s.is_local_catalog or x:\n        g()\n"
    )
    assert _local_only_calls(ast.parse(planted), "g") == [(3, True), (5, False), (6, False), (8, False), (10, False)]
