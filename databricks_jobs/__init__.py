"""Bronze -> Silver -> Gold lakehouse jobs for load, weather and outage data (PySpark + Delta Lake)."""
