"""Silver dispatch: a definition's `dataset` names the handler that types its Bronze rows. Every dataset is listed
here; a new one is a transform module plus one line below."""

from __future__ import annotations

from databricks_jobs.silver.dataset import DatasetHandler
from databricks_jobs.silver.outages import transform_outages
from databricks_jobs.silver.transforms import transform_demand, transform_weather
from databricks_jobs.tables import SILVER_DEMAND_HOURLY, SILVER_OUTAGE_EVENTS, SILVER_WEATHER_HOURLY

DATASETS: dict[str, DatasetHandler] = {
    handler.dataset: handler
    for handler in (
        DatasetHandler("demand", SILVER_DEMAND_HOURLY, transform_demand),
        DatasetHandler("weather", SILVER_WEATHER_HOURLY, transform_weather),
        DatasetHandler("outage_events", SILVER_OUTAGE_EVENTS, transform_outages),
    )
}


def handler_for(dataset: str) -> DatasetHandler:
    if dataset not in DATASETS:
        raise KeyError(f"no Silver transform for dataset {dataset!r}; known: {sorted(DATASETS)}")
    return DATASETS[dataset]
