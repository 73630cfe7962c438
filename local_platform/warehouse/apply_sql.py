"""Apply sql/*.sql to the local warehouse: every statement runs, or is skipped by a declared rule with its reason.

The files use Snowflake CLI template variables (`<% name %>`, as `snow sql -f FILE -D name=value`); locally they take
the values of `local_variables`. Nothing is skipped silently: `apply` returns what ran and what was skipped, and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import tokens
from sqlglot.dialects.snowflake import Snowflake

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
VARIABLE = re.compile(r"<%\s*([A-Za-z_][A-Za-z0-9_]*)\s*%>")

# (pattern on the statement's start, why the local warehouse cannot run it). Order does not matter; first match wins.
LOCAL_SKIP_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"^(CREATE|ALTER|DROP)\s+(OR\s+REPLACE\s+)?ROLE\b", "no access control in fakesnow (roles)"),
        (r"^(GRANT|REVOKE)\b", "no access control in fakesnow (grants)"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?STORAGE\s+INTEGRATION\b", "no cloud IAM locally; the stage reads a file:// URL"),
        (r"^ALTER\s+STORAGE\s+INTEGRATION\b", "no cloud IAM locally; the stage reads a file:// URL"),
        (r"^(CREATE|ALTER|DROP)\s+(OR\s+(REPLACE|ALTER)\s+)?TASK\b", "fakesnow has no task scheduler"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?STREAMLIT\b", "the app runs with `streamlit run` locally"),
        (
            r"^CREATE\s+(OR\s+REPLACE\s+)?(AGGREGATE\s+)?FUNCTION\b",
            "fakesnow would return the function body as text; the local warehouse registers the handler code instead",
        ),
    )
)


@dataclass(frozen=True)
class StatementResult:
    file: str
    statement: str
    skipped_reason: str | None = None

    @property
    def summary(self) -> str:
        head = " ".join(self.statement.split())[:90]
        return f"{self.file}: {'SKIPPED (' + self.skipped_reason + ')' if self.skipped_reason else 'ran'}: {head}"


def render(text: str, variables: dict[str, str]) -> str:
    """Substitute `<% name %>`; an unknown name is an error, not an empty string."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"SQL variable <% {name} %> has no value (known: {sorted(variables)})")
        return variables[name]

    return VARIABLE.sub(value, text)


def split_statements(text: str) -> list[str]:
    """Split on the semicolons sqlglot's Snowflake tokenizer sees (not those in strings, comments or $$ bodies)."""
    statements, start = [], 0
    for token in Snowflake().tokenize(text):
        if token.token_type == tokens.TokenType.SEMICOLON:
            statements.append(text[start : token.start].strip())
            start = token.end + 1
    statements.append(text[start:].strip())
    return [s for s in (_strip_comments(s) for s in statements) if s]


def _strip_comments(statement: str) -> str:
    lines = [line for line in statement.splitlines() if not line.strip().startswith("--")]
    return "\n".join(lines).strip()


def skip_reason(statement: str) -> str | None:
    for pattern, reason in LOCAL_SKIP_RULES:
        if pattern.search(statement):
            return reason
    return None


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The deployment's SQL files in order (the native app's setup script runs only inside an app)."""
    return sorted(sql_dir.glob("*.sql"))


def local_variables(export_root: str, database: str = "ENERGY") -> dict[str, str]:
    url = export_root if "://" in export_root else Path(export_root).resolve().as_uri()
    return {
        "database": database,
        "export_url": url.rstrip("/") + "/",
        "aws_role_arn": "not-used-locally",
        "warehouse": "LOCAL",
        "admin_role": "ENERGY_ADMIN",
        "analyst_role": "ENERGY_ANALYST",
    }


def apply(session: Any, variables: dict[str, str], files: list[Path] | None = None) -> list[StatementResult]:
    """Run every statement of the files that no rule skips; stops at the first failing statement."""
    results = []
    for path in files or sql_files():
        for statement in split_statements(render(path.read_text(encoding="utf-8"), variables)):
            reason = skip_reason(statement)
            if reason is None:
                try:
                    session.sql(statement).collect()
                except Exception as error:
                    raise RuntimeError(f"{path.name}: statement failed: {statement[:200]!r}: {error}") from error
            results.append(StatementResult(path.name, statement, reason))
    return results
