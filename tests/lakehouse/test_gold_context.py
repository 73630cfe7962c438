"""GoldContext shares plans and results between the Gold builders' threads: each key computed once, and a builder
waits only for the keys it needs."""

from __future__ import annotations

import threading

from databricks_jobs.gold.context import GoldContext
from databricks_jobs.settings import LakeSettings


def _context(tmp_path) -> GoldContext:
    return GoldContext(None, LakeSettings(lake_root=str(tmp_path / "lake")), "20261206T000000Z-00000001")


def test_a_key_being_computed_holds_up_only_the_builders_that_need_it(tmp_path):
    ctx = _context(tmp_path)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:  # a result computed with Spark jobs: seconds
        calls.append("a")
        started.set()
        release.wait(30)
        return "A"

    first = threading.Thread(target=lambda: ctx.cached("a", slow))
    first.start()
    try:
        assert started.wait(10)
        other: list[str] = []
        reader = threading.Thread(target=lambda: other.append(ctx.cached("b", lambda: "B")))
        reader.start()
        reader.join(5)
        assert other == ["B"], "a builder needing another key waited for the key being computed"
        waiting: list[str] = []
        same = threading.Thread(target=lambda: waiting.append(ctx.cached("a", lambda: "computed twice")))
        same.start()
        same.join(0.5)
        assert waiting == []  # the same key: waits for the first computation
    finally:
        release.set()
    first.join(10)
    same.join(10)
    assert waiting == ["A"] and calls == ["a"]
