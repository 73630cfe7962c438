"""Silver inputs for the Gold builders, with local-time fields, restricted to the keys new Silver rows touch."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.local_time import with_local_fields
from databricks_jobs.tables import SILVER_DEMAND_HOURLY, SILVER_WEATHER_HOURLY


def demand_local(ctx: GoldContext, changed_only: bool = False) -> DataFrame | None:
    """silver_demand__hourly (or only its rows new to Gold) with time_zone, *_local, date_local, month, day_type."""

    def load() -> DataFrame | None:
        frame = ctx.changed(SILVER_DEMAND_HOURLY.name) if changed_only else ctx.read(SILVER_DEMAND_HOURLY.name)
        return None if frame is None else with_local_fields(frame, ctx.regions)

    return ctx.cached(("demand_local", changed_only), load)


def weather_local(ctx: GoldContext, changed_only: bool = False) -> DataFrame | None:
    """silver_weather__hourly (or its rows new to Gold) with the local fields of the station's region."""

    def load() -> DataFrame | None:
        frame = ctx.changed(SILVER_WEATHER_HOURLY.name) if changed_only else ctx.read(SILVER_WEATHER_HOURLY.name)
        return None if frame is None else with_local_fields(frame, ctx.regions)

    return ctx.cached(("weather_local", changed_only), load)


def keys_of(changed: DataFrame | None, key_cols: list[str]) -> DataFrame | None:
    return None if changed is None else changed.select(*key_cols).distinct()


# Every key a demand or weather builder recomputes by is made of these columns of the local rows (or derived from
# date_local: gold/demand_coincident_peak.with_month_start).
DAY_KEY = ["source_id", "region_code", "date_local", "month"]


def changed_days(ctx: GoldContext, local: Callable[..., DataFrame | None]) -> DataFrame | None:
    """The DAY_KEY of the rows of `local` (demand_local or weather_local) new to Gold: computed once per run for every
    builder that recomputes the keys they touch (on the driver when they are few: GoldContext.computed_once)."""
    return ctx.computed_once(f"changed_days_{local.__name__}", lambda: keys_of(local(ctx, changed_only=True), DAY_KEY))


def restrict(full: DataFrame, keys: DataFrame | None, key_cols: list[str]) -> DataFrame:
    """The rows of `full` whose keys appear in `keys` (none if no keys)."""
    if keys is None:
        return full.limit(0)
    return full.join(F.broadcast(keys), key_cols, "left_semi")


def rows_to_recompute(
    ctx: GoldContext,
    local: Callable[..., DataFrame | None],
    key_cols: list[str],
    derive: Callable[[DataFrame], DataFrame] = lambda frame: frame,
) -> DataFrame | None:
    """The rows of `local(ctx)` (demand_local or weather_local, then `derive`) of every key that rows new to Gold
    touch: all rows on a full refresh, none when nothing is new, None before the Silver table exists."""
    full = local(ctx)
    if full is None:
        return None
    if ctx.full_refresh:
        return derive(full)
    days = changed_days(ctx, local)
    keys = keys_of(None if days is None else derive(days), key_cols)
    return restrict(derive(full), keys, key_cols)


def union_keys(*frames: DataFrame | None) -> DataFrame | None:
    present = [f for f in frames if f is not None]
    if not present:
        return None
    out = present[0]
    for frame in present[1:]:
        out = out.unionByName(frame)
    return out.distinct()
