"""Seeded synthetic utility: feeders with known customers, interval load, weather and OMS outage exports."""

from databricks_jobs.synthetic.model import SyntheticConfig, SyntheticUtility
from databricks_jobs.synthetic.writer import SyntheticSummary, generate_synthetic_utility

__all__ = ["SyntheticConfig", "SyntheticSummary", "SyntheticUtility", "generate_synthetic_utility"]
