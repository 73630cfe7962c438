"""A session wrapper for the statement checks: the text of every statement a handler sends."""

from __future__ import annotations

from typing import Any


class RecordingSession:
    """The warehouse session, keeping the text of every statement the procedure sends."""

    def __init__(self, session: Any) -> None:
        self._session, self.statements = session, []

    def sql(self, query: str, params=None):
        self.statements.append(query)
        return self._session.sql(query, params=params)

    def __getattr__(self, name: str):
        return getattr(self._session, name)
