"""COPY INTO ... INCLUDE_METADATA = (column = METADATA$FILENAME) on the local warehouse, and DuckDB's errors
reported as the statement's error (not as a server failure the connector retries for minutes).

Snowflake fills a column of each loaded row with the file it came from (INCLUDE_METADATA, allowed with
MATCH_BY_COLUMN_NAME); the load procedure uses it to name the file of an implausible value while loading all of a
table's files in one COPY. fakesnow 0.12 refuses the parameter ("Unknown copy parameter"). This module teaches it
that one form: the parameter is taken out of the statement, fakesnow builds its per-file INSERTs as usual, and the
named column of each INSERT gets the file's path instead of NULL. Anything else (other metadata fields, a column
the table lacks, without MATCH_BY_COLUMN_NAME) is refused as Snowflake would refuse it or fakesnow cannot do it.
Uses fakesnow internals (copy_into.copy_into, copy_into._inserts): pinned version, covered by
tests/snowflake/test_load_refusals.py.
"""

from __future__ import annotations

import contextvars
from typing import Any

from sqlglot import exp

SUPPORTED_FIELD = "METADATA$FILENAME"
_metadata_column: contextvars.ContextVar[str | None] = contextvars.ContextVar("include_metadata", default=None)


def _take_include_metadata(expr: exp.Copy) -> str | None:
    """Remove INCLUDE_METADATA from the statement; the target column it names (upper case), if any."""
    params = expr.args.get("params") or []
    kept, column = [], None
    for param in params:
        if isinstance(param.this, exp.Var) and param.this.name.upper() == "INCLUDE_METADATA":
            pair = param.args.get("expression")
            inner = pair.this if isinstance(pair, exp.Paren) else pair
            if not isinstance(inner, exp.EQ) or inner.expression.sql().upper() != SUPPORTED_FIELD:
                raise NotImplementedError(f"local warehouse: INCLUDE_METADATA supports ({SUPPORTED_FIELD}) only")
            column = inner.this.name.upper()
        else:
            kept.append(param)
    if column is not None:
        matching = [p for p in kept if isinstance(p.this, exp.Var) and p.this.name.upper() == "MATCH_BY_COLUMN_NAME"]
        if not matching:
            # Snowflake: INCLUDE_METADATA "can only be used with MATCH_BY_COLUMN_NAME".
            raise ValueError("INCLUDE_METADATA requires MATCH_BY_COLUMN_NAME")
        expr.set("params", kept)
    return column


def _with_file_name(inserts: list[exp.Expression], urls: list[str], column: str) -> list[exp.Expression]:
    for insert, url in zip(inserts, urls, strict=True):
        select = insert.expression
        aliases = [e for e in select.expressions if isinstance(e, exp.Alias) and e.alias.upper() == column]
        if not aliases:
            raise ValueError(f"INCLUDE_METADATA: column {column} is not a column of the target table")
        aliases[0].set("this", exp.Literal.string(url))
    return inserts


def install() -> None:
    """Patch fakesnow's COPY (once per process)."""
    from fakesnow import copy_into

    if getattr(copy_into.copy_into, "_include_metadata", False):
        return
    original_copy, original_inserts = copy_into.copy_into, copy_into._inserts

    def copy(duck_conn: Any, current_database: Any, current_schema: Any, expr: exp.Copy, *args: Any, **kw: Any) -> Any:
        token = _metadata_column.set(_take_include_metadata(expr))
        try:
            return original_copy(duck_conn, current_database, current_schema, expr, *args, **kw)
        finally:
            _metadata_column.reset(token)

    def inserts(expr: exp.Copy, params: Any, urls: list[str], parquet_info: Any = None) -> list[exp.Expression]:
        result = original_inserts(expr, params, urls, parquet_info)
        column = _metadata_column.get()
        return _with_file_name(result, urls, column) if column else result

    copy._include_metadata = True  # type: ignore[attr-defined]
    copy_into.copy_into, copy_into._inserts = copy, inserts
    # The cursor imported the function by name: point it at the patched one too.
    from fakesnow import cursor

    if getattr(cursor, "copy_into", None) is original_copy:
        cursor.copy_into = copy


def report_duckdb_errors() -> None:
    """Any DuckDB error of a statement is answered as that statement's error, as Snowflake answers a failed
    statement. fakesnow translates a few DuckDB errors and passes the rest on as an unhandled exception, i.e. HTTP
    500, which the Snowflake connector retries for minutes: a load then hangs instead of failing. Two kinds get
    Snowflake's own codes: the second of two transactions writing one row ("Conflict on update", as Snowflake
    reports a statement aborted on a lock; the load's lock table relies on it locally: the second of two concurrent
    loads is refused at once) and a file DuckDB may not touch (a stage outside the folders the locked-down warehouse
    may read: insufficient privileges). Every other DuckDB error gets Snowflake's internal-error code."""
    import duckdb
    from fakesnow.cursor import FakeSnowflakeCursor

    for method_name in ("execute", "_describe_only"):  # the server describes some statements before running them
        original = getattr(FakeSnowflakeCursor, method_name)
        if not getattr(original, "_reports_duckdb_errors", False):
            setattr(FakeSnowflakeCursor, method_name, _reporting(original, duckdb.Error))


def statement_error(error: Exception) -> Exception:
    """The Snowflake error a statement that failed in DuckDB with `error` is answered with."""
    import duckdb
    import snowflake.connector.errors

    if isinstance(error, duckdb.TransactionException) and "conflict" in str(error).lower():
        errno, sqlstate, what = 625, "57014", "write conflict with another transaction"
    elif isinstance(error, duckdb.PermissionException):
        errno, sqlstate, what = 3001, "42501", "insufficient privileges (the local warehouse may not read this)"
    else:
        errno, sqlstate, what = 603, "XX000", f"local warehouse (DuckDB {type(error).__name__})"
    return snowflake.connector.errors.ProgrammingError(msg=f"{what}: {error}", errno=errno, sqlstate=sqlstate)


def _reporting(original: Any, duckdb_error: type[Exception]) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except duckdb_error as error:
            raise statement_error(error) from error

    method._reports_duckdb_errors = True  # type: ignore[attr-defined]
    return method
